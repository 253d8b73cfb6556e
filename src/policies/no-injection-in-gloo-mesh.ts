import type { Policy, PolicyViolation, ReleaseSubject, Setting } from '../engine/types.js';
import { runCelChecks } from '../rules/checks.js';
import { overridePodMeta, podInjection, violation } from './util.js';

function overrides(s: ReleaseSubject): Setting<unknown>[] {
  const m = s.model;
  return [
    m.mgmtServer?.deploymentOverrides,
    m.ui?.deploymentOverrides,
    m.redis?.deploymentOverrides,
    m.agent?.deploymentOverrides,
  ].filter((o): o is Setting<unknown> => o !== undefined && o.value !== undefined && o.value !== null);
}

/** Refuses Istio injection for the Gloo Mesh management components. */
export const noInjectionInGlooMesh: Policy = {
  id: 'no-injection-in-gloo-mesh',
  title: 'No Istio injection in the gloo-mesh namespace',
  severity: 'high',
  defaultAction: 'deny',
  description:
    "Injecting the management namespace (default gloo-mesh) makes the management plane depend on Istio's mutating " +
    'webhook, a fragile coupling the vendor advises against. Neither the namespace, nor a Deployment there, nor a ' +
    'deploymentOverrides value may turn injection on. Enrolling it in Istio ambient mode ' +
    '(istio.io/dataplane-mode=ambient on the namespace or a pod) is mesh enrolment too, and refused the same way.',
  remediation:
    'remove istio-injection=enabled / istio.io/rev / istio.io/dataplane-mode=ambient from the namespace and sidecar.istio.io/inject: "true" / istio.io/rev / istio.io/dataplane-mode=ambient from the pod templates',
  appliesTo: ['namespace', 'deployment', 'release'],
  match: { namespace: [{ namespaces: ['management'] }], deployment: [{ namespaces: ['management'] }] },
  validate(subject, ctx): PolicyViolation[] {
    const mgmt = ctx.namespaces.management;
    // The object checks are CEL data (src/rules/builtin.ts), also rendered as ValidatingAdmissionPolicies.
    if (subject.kind === 'namespace' || subject.kind === 'deployment')
      return runCelChecks('no-injection-in-gloo-mesh', subject, ctx);
    if (subject.kind !== 'release') return [];
    if (subject.release.namespace !== undefined && subject.release.namespace !== mgmt) return [];
    return overrides(subject).flatMap((o) => {
      const { meta, path } = overridePodMeta(o);
      const pod = podInjection(meta);
      return pod.injection === 'enabled'
        ? [
            violation(
              'deploymentOverrides turn on Istio injection for a management component',
              `${path}.${pod.path}`,
              `remove the injection setting from ${path}`,
            ),
          ]
        : [];
    });
  },
};
