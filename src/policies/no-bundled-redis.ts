import type { Policy, PolicyViolation } from '../engine/types.js';
import { violation } from './util.js';

/** Refuses the demo Redis that the management chart bundles. */
export const noBundledRedis: Policy = {
  id: 'no-bundled-redis',
  title: 'Bring your own Redis',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'The bundled gloo-mesh-redis is a single pod without persistence or auth, meant for proof of concept and staging. ' +
    'Production should point Gloo Mesh at a managed or replicated Redis. For gloo-platform, whose chart does not ' +
    'document a default for redis.deployment.enabled, gloo-guard assumes true (as the 2.0 charts do) and judges it ' +
    'for releases that run the management server.',
  remediation:
    'disable the bundled Redis (glooMeshRedis.enabled: false, or redis.deployment.enabled: false) and point to your own',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ namespaces: ['management'], names: ['gloo-mesh-redis'] }] },
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind === 'release') {
      const redis = subject.model.redis;
      if (!redis?.enabled.value || !subject.model.roles.management) return [];
      return [
        violation(
          'the bundled Redis is enabled',
          redis.enabled.path,
          `set ${redis.enabled.path}: false and use your own Redis`,
        ),
      ];
    }
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
