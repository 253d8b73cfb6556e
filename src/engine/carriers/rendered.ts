/**
 * Rendered objects (`helm template`, what Argo CD applies): no release exists, so the values are gone
 * and only what the chart's templates print is left. The policies that judge Deployments, Services
 * and Namespaces judge those objects as they do in a cluster; a policy that reads release values only
 * (the relay CA switches, UI auth, inline credentials) cannot, and is named instead of passing silently.
 */
import type { Config } from '../../config/types.js';
import type { Policy, Subject, SubjectKind } from '../types.js';

/**
 * Workloads the Gloo Mesh charts render, by name (the vendor's pod listings of the management and
 * workload clusters and the add-ons namespace in its docs and workshops). One of them in an input
 * marks it as a rendered install.
 */
export const RENDERED_COMPONENTS: readonly string[] = [
  'gloo-mesh-mgmt-server',
  'gloo-mesh-agent',
  'gloo-mesh-ui',
  'gloo-mesh-redis',
  'gloo-telemetry-gateway',
  'ext-auth-service',
  'rate-limiter',
];

const RENDERED_KINDS: readonly SubjectKind[] = ['deployment', 'service', 'namespace'];

type Rendered = Extract<Subject, { kind: 'deployment' | 'service' }>;

function isRenderedComponent(s: Subject): s is Rendered {
  return (s.kind === 'deployment' || s.kind === 'service') && RENDERED_COMPONENTS.includes(s.name);
}

/** The policies in force that judge only release values: rendered objects cannot show what they read. */
export function releaseOnlyPolicies(policies: readonly Policy[], config: Config): string[] {
  return policies
    .filter((p) => (config.policies[p.id]?.action ?? p.defaultAction) !== 'off')
    .filter((p) => p.appliesTo.includes('release') && !p.appliesTo.some((k) => RENDERED_KINDS.includes(k)))
    .map((p) => p.id);
}

/**
 * For one input's subjects: when it holds rendered Gloo Mesh workloads and no release (values, release
 * Secret, Application, HelmRelease) to judge them by, the line that names the policies left unjudged.
 */
export function renderedGap(
  subjects: readonly Subject[],
  policies: readonly Policy[],
  config: Config,
): string | undefined {
  if (subjects.some((s) => s.kind === 'release') || !subjects.some(isRenderedComponent)) return undefined;
  const ids = releaseOnlyPolicies(policies, config);
  if (ids.length === 0) return undefined;
  const seen = [...new Set(subjects.filter(isRenderedComponent).map((s) => s.name))].join(', ');
  return (
    `rendered objects (${seen}): ${ids.join(', ')} could not be judged: their settings are not visible ` +
    'in rendered manifests; check the values with --chart'
  );
}
