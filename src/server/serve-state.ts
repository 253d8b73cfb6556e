/** What `serve` keeps while it runs, and the readiness /readyz reports from it. */
import type { Config } from '../config/types.js';
import type { ClusterFeatures } from './cluster-options.js';
import type { InFlight } from './lifecycle.js';

/** The mutable state behind the config provider and the readiness probe. */
export interface State {
  config: Config;
  certificateLoaded: boolean;
  /** The reviews in flight, and whether the shutdown began (`closing`). */
  inFlight: InFlight;
  cluster?: ClusterFeatures;
}

/** Ready when the certificate is loaded, no shutdown began and the cluster features are ready. */
export function readiness(state: State): { ready: boolean; reasons: string[] } {
  const reasons = [
    ...(state.certificateLoaded ? [] : ['no serving certificate']),
    ...(state.inFlight.closing ? ['shutting down'] : []),
    ...(state.cluster?.notReady() ?? []),
  ];
  return { ready: reasons.length === 0, reasons };
}
