import type { Policy, PolicyViolation, RedisStoreModel, ReleaseSubject } from '../engine/types.js';
import { ambiguousFlag, readingOf, violation } from './util.js';

/** The one Redis of the 2.0-2.2 charts and gloo-platform before per-store Redis. */
const SHARED = 'gloo-mesh-redis';

/** The stores whose Redis this release runs: management stores with the management role, add-on stores with add-ons. */
function storesRun(subject: ReleaseSubject): RedisStoreModel[] {
  const { roles, redis } = subject.model;
  return (redis?.stores ?? []).filter((s) => (s.role === 'management' ? roles.management : roles.addons));
}

/** One finding per switch: stores that share the bundled Redis are named together. */
function findings(stores: RedisStoreModel[]): PolicyViolation[] {
  const byPath = new Map<string, RedisStoreModel[]>();
  for (const s of stores.filter((x) => x.bundled.value || x.bundled.ambiguous)) {
    byPath.set(s.bundled.path, [...(byPath.get(s.bundled.path) ?? []), s]);
  }
  return [...byPath.values()].map((group) => {
    const flag = group[0]!.bundled;
    if (flag.ambiguous) return ambiguousFlag(flag);
    if (group.length === 1 && group[0]!.store === SHARED) {
      return violation(
        `the bundled Redis is enabled${readingOf(flag)}`,
        flag.path,
        `set ${flag.path}: false and use your own Redis`,
      );
    }
    const names = group.map((s) => s.store).join(', ');
    const store = group.length === 1 ? `store ${names}` : `stores ${names}`;
    const address = group.flatMap((s) => (s.address ? [s.address.path] : [])).join(', ');
    const pointing = address === '' ? `the ${store}` : address;
    return violation(
      `the bundled Redis serves the ${store}${readingOf(flag)}`,
      flag.path,
      `set ${flag.path}: false and point ${pointing} at your own Redis`,
    );
  });
}

/** Refuses the demo Redis that the charts bundle, store by store. */
export const noBundledRedis: Policy = {
  id: 'no-bundled-redis',
  title: 'Bring your own Redis',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'The bundled gloo-mesh-redis is a single pod without persistence or auth, meant for proof of concept and staging ' +
    '(vendor: "Proof of concept and staging"; "Bring your own Redis" for production). Judged per store a release ' +
    'runs: glooMeshRedis.enabled (2.0-2.2, default true); gloo-platform redis.deployment.enabled (the Helm reference ' +
    'shows true), and from 2.5 each store of redisStore.<store> (snapshot and insights with the management server, ' +
    'extAuthService and rateLimiter with the add-ons) with its own deployment.enabled, or the shared Redis when the ' +
    'store sets none. Add-ons releases before per-store Redis (gloo-platform 2.3-2.4, gloo-mesh-agent 2.0-2.2 and ' +
    "registerMgmtPlane of gloo-mesh-enterprise 2.1-2.2) run the rate limiter's own Redis (redis in gloo-mesh-addons, " +
    'which ext-auth shares) unless rateLimiter.redis.enabled / rate-limiter.redis.enabled is false. Each finding names its store.',
  remediation:
    'disable the bundled Redis (glooMeshRedis.enabled: false, redis.deployment.enabled: false, or ' +
    'redisStore.<store>.deployment.enabled: false) and point each store at your own Redis',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ namespaces: ['management'], names: ['gloo-mesh-redis'] }] },
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind === 'release') return findings(storesRun(subject));
    if (
      subject.kind === 'deployment' &&
      subject.name === 'gloo-mesh-redis' &&
      subject.namespace === ctx.namespaces.management
    ) {
      return [
        violation(
          'the bundled Redis Deployment gloo-mesh-redis runs in the management namespace',
          'metadata.name',
        ),
      ];
    }
    return [];
  },
};
