import type { Policy, PolicyViolation, ReleaseSubject } from '../engine/types.js';
import { getPath, isSet } from '../engine/values.js';
import { violation } from './util.js';

/** The namespace the add-ons of a release are deployed to, when it is known. */
function addonsNamespace(s: ReleaseSubject): string | undefined {
  if (s.family === 'gloo-platform') {
    const ns = getPath(s.values, 'common.addonNamespace');
    if (isSet(ns)) return ns;
  }
  return s.release.namespace;
}

/** Refuses add-ons installed with the agent or outside the add-ons namespace. */
export const addonsSeparateRelease: Policy = {
  id: 'addons-separate-release',
  title: 'Add-ons go in their own release and namespace',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'The rate limiter and external auth service need Istio sidecars, and the management plane must not depend on ' +
    'Istio injection. The vendor installs them as a separate release of the same chart, with only the add-ons ' +
    'enabled, into the add-ons namespace (default gloo-mesh-addons), which is labelled for injection.',
  remediation:
    'disable the add-ons here and install them as a separate release in the add-ons namespace with only rate-limiter/ext-auth-service enabled',
  appliesTo: ['release'],
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind !== 'release' || !subject.model.roles.addons) return [];
    const enabled = subject.model.addons.filter((s) => s.value);
    const out: PolicyViolation[] = [];
    const { agent, management } = subject.model.roles;
    if (agent || management) {
      const other = agent ? 'agent' : 'management plane';
      out.push(
        ...enabled.map((s) =>
          violation(
            `an add-on is enabled in the same release as the ${other}`,
            s.path,
            `set ${s.path}: false here and install it in a separate add-ons release`,
          ),
        ),
      );
    }
    const ns = addonsNamespace(subject);
    if (ns !== undefined && ns !== ctx.namespaces.addons) {
      out.push(
        ...enabled.map((s) =>
          violation(
            `an add-on is installed into namespace ${ns}, not ${ctx.namespaces.addons}`,
            s.path,
            `install the add-ons release into namespace ${ctx.namespaces.addons}`,
          ),
        ),
      );
    }
    return out;
  },
};
