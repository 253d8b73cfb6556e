/** The policy catalog: an explicit, ordered list. Ids are stable; they are the user-facing contract. */
import type { Policy } from '../engine/types.js';
import { addonsNamespaceInjection } from './addons-namespace-injection.js';
import { addonsSeparateRelease } from './addons-separate-release.js';
import { chartValuesKeys } from './chart-values-keys.js';
import { dedicatedManagementCluster } from './dedicated-management-cluster.js';
import { fipsImages } from './fips-images.js';
import { mgmtServerInternalLb } from './mgmt-server-internal-lb.js';
import { mgmtServerScrapeAnnotations } from './mgmt-server-scrape-annotations.js';
import { noBundledPrometheus } from './no-bundled-prometheus.js';
import { noBundledRedis } from './no-bundled-redis.js';
import { noDemoSettings } from './no-demo-settings.js';
import { noDefaultRelayCa } from './no-default-relay-ca.js';
import { noInjectionInGlooMesh } from './no-injection-in-gloo-mesh.js';
import { noInlineCredentials } from './no-inline-credentials.js';
import { noInlineOidcSecret } from './no-inline-oidc-secret.js';
import { noInsecureRelay } from './no-insecure-relay.js';
import { relayCustomCerts } from './relay-custom-certs.js';
import { uiOidcAuth } from './ui-oidc-auth.js';

/** Every policy, in the order users see them. */
export const POLICIES: readonly Policy[] = [
  noInsecureRelay,
  noDefaultRelayCa,
  relayCustomCerts,
  noBundledRedis,
  noBundledPrometheus,
  uiOidcAuth,
  noInlineOidcSecret,
  noInlineCredentials,
  noDemoSettings,
  chartValuesKeys,
  addonsSeparateRelease,
  addonsNamespaceInjection,
  noInjectionInGlooMesh,
  dedicatedManagementCluster,
  fipsImages,
  mgmtServerInternalLb,
  mgmtServerScrapeAnnotations,
];

const BY_ID = new Map(POLICIES.map((p) => [p.id, p]));

/** Looks a policy up by id. */
export function policyById(id: string): Policy | undefined {
  return BY_ID.get(id);
}
