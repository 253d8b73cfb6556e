/**
 * The release Secrets Kyverno and gloo-guard both judge: the benchmark's own three (small, large, gzip
 * bomb) for speed, plus passing and failing variants of a gloo-platform and a gloo-mesh-enterprise
 * release for parity (each failing one breaks exactly one of the two policies the Kyverno policy covers).
 */
import { encodeReleasePayload } from '../../src/helm/release.js';
import { PRODUCTION_VALUES } from '../../test/fixtures/admission/reviews.js';
import {
  admissionReview,
  helmRelease,
  productionPlatformValues,
  releaseSecretFor,
  type ReleaseSpec,
} from '../reviews.js';

type Obj = Record<string, unknown>;

/** One AdmissionReview both engines judge, and what it is expected to break (for the report). */
export interface KyvernoCase {
  name: string;
  body: Buffer;
}

function releaseCase(name: string, spec: ReleaseSpec): KyvernoCase {
  const release = helmRelease(spec);
  const review = admissionReview(releaseSecretFor(release, encodeReleasePayload(release)), 'Secret', name);
  return { name, body: Buffer.from(JSON.stringify(review)) };
}

function platform(name: string, edit: (config: Obj) => void): KyvernoCase {
  const config = productionPlatformValues();
  edit(config);
  return releaseCase(name, {
    name: 'gloo-platform',
    namespace: 'gloo-mesh',
    chart: 'gloo-platform',
    chartVersion: '2.5.4',
    revision: 3,
    config,
    scale: 1,
    seed: 11,
    crds: false,
  });
}

function enterprise(name: string, edit: (config: Obj) => void): KyvernoCase {
  const config = structuredClone(PRODUCTION_VALUES);
  edit(config);
  return releaseCase(name, {
    name: 'gloo-mesh-enterprise',
    namespace: 'gloo-mesh',
    chart: 'gloo-mesh-enterprise',
    chartVersion: '2.4.9',
    revision: 1,
    config,
    scale: 1,
    seed: 13,
    crds: false,
  });
}

function relayOf(config: Obj, key: string): Obj {
  return (config[key] as Obj).relay as Obj;
}

/** Passing and failing releases for the parity check. */
export function parityReleases(): KyvernoCase[] {
  return [
    platform('platform production values pass', () => undefined),
    platform('platform common.insecure', (c) => {
      (c.common as Obj).insecure = true;
    }),
    platform('platform glooMgmtServer.insecure', (c) => {
      (c.glooMgmtServer as Obj).insecure = true;
    }),
    platform('platform insecure: false stays allowed', (c) => {
      (c.common as Obj).insecure = false;
    }),
    platform('platform self-signed relay CA (chart default)', (c) => {
      const relay = relayOf(c, 'glooMgmtServer');
      delete relay.disableCa;
      delete relay.disableCaCertGeneration;
    }),
    platform('platform custom CA (disableCa false, generation off) passes', (c) => {
      relayOf(c, 'glooMgmtServer').disableCa = false;
    }),
    enterprise('enterprise production values pass', () => undefined),
    enterprise('enterprise insecure', (c) => {
      c.insecure = true;
    }),
    enterprise('enterprise self-signed relay CA', (c) => {
      relayOf(c, 'glooMeshMgmtServer').disableCaCertGeneration = false;
      relayOf(c, 'glooMeshMgmtServer').disableCa = false;
    }),
  ];
}
