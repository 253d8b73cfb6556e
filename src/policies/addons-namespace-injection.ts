import type { Policy, PolicyViolation } from '../engine/types.js';
import { getPath, isSet } from '../engine/values.js';
import { runCelChecks } from '../rules/checks.js';
import { namespaceInjection, podInjection, podTemplateMeta, violation } from './util.js';

const LABEL_FIX = (ns: string): string =>
  `label namespace ${ns} with istio-injection=enabled, istio.io/rev=<revision> or istio.io/dataplane-mode=ambient`;

/** Refuses an add-ons namespace or add-on pod that would run without an Istio sidecar. */
export const addonsNamespaceInjection: Policy = {
  id: 'addons-namespace-injection',
  title: 'The add-ons namespace is injected by Istio',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'The rate limiter and external auth service reach workloads over mTLS only with an Istio sidecar. Their namespace ' +
    '(default gloo-mesh-addons) must be labelled for injection (istio-injection=enabled, or istio.io/rev=<rev>; ' +
    'istio-injection=disabled counts as off and wins over istio.io/rev), and no Deployment there may opt out with ' +
    'sidecar.istio.io/inject: "false". Istio ambient mode (istio.io/dataplane-mode=ambient) enrols the namespace too, ' +
    'and a pod labelled istio.io/dataplane-mode=none opts out of it. With a cluster view, an add-ons release is ' +
    'judged against the labels its namespace really has.',
  remediation:
    'label the add-ons namespace istio-injection=enabled (or istio.io/rev=<revision>) and keep its pods injected',
  appliesTo: ['namespace', 'deployment', 'release'],
  match: { namespace: [{ namespaces: ['addons'] }], deployment: [{ namespaces: ['addons'] }] },
  validate(subject, ctx): PolicyViolation[] {
    const addons = ctx.namespaces.addons;
    // The object checks are CEL data (src/rules/builtin.ts), also rendered as ValidatingAdmissionPolicies.
    if (subject.kind === 'namespace') return runCelChecks('addons-namespace-injection', subject, ctx);
    if (subject.kind === 'deployment') {
      if (subject.namespace !== addons) return [];
      const pod = podInjection(podTemplateMeta(subject));
      const out = runCelChecks('addons-namespace-injection', subject, ctx);
      const nsLabels = ctx.cluster?.namespaceLabels(addons);
      if (ctx.cluster && pod.injection !== 'enabled' && namespaceInjection(nsLabels) !== 'enabled') {
        out.push(
          violation(
            `namespace ${addons} is not labelled for Istio injection, so Deployment ${subject.name} runs without a sidecar`,
            'metadata.namespace',
            LABEL_FIX(addons),
          ),
        );
      }
      return out;
    }
    if (subject.kind !== 'release' || !subject.model.roles.addons || !ctx.cluster) return [];
    const configured = getPath(subject.values, 'common.addonNamespace');
    const ns =
      subject.family === 'gloo-platform' && isSet(configured) ? configured : subject.release.namespace;
    if (ns === undefined) return [];
    const labels = ctx.cluster.namespaceLabels(ns);
    if (namespaceInjection(labels) === 'enabled') return [];
    const state = labels === undefined ? 'does not exist' : 'is not labelled for Istio injection';
    return [violation(`the add-ons namespace ${ns} ${state}`, `namespace ${ns}`, LABEL_FIX(ns))];
  },
};
