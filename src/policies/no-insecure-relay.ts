import type { Policy, PolicyViolation } from '../engine/types.js';
import { violation } from './util.js';

const RELAY_COMPONENTS = ['gloo-mesh-mgmt-server', 'gloo-mesh-agent'];
const INSECURE_ARG = /^--(relay-)?insecure(=true)?$/;

/** Refuses relay communication without mTLS. */
export const noInsecureRelay: Policy = {
  id: 'no-insecure-relay',
  title: 'Relay traffic must use mTLS',
  severity: 'critical',
  defaultAction: 'deny',
  description:
    'With `insecure: true` the management server and the agents talk over plain text: no mTLS, no identity. ' +
    'The vendor marks it "Do not use in production"; it exists for quick demonstrations.',
  remediation: 'remove the insecure setting or set it to false, and set up relay certificates',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ names: RELAY_COMPONENTS }] },
  validate(subject): PolicyViolation[] {
    if (subject.kind === 'release') {
      return subject.model.insecure
        .filter((s) => s.value)
        .map((s) =>
          violation('relay runs without mTLS because insecure is true', s.path, `set ${s.path}: false`),
        );
    }
    if (subject.kind !== 'deployment' || !RELAY_COMPONENTS.includes(subject.name)) return [];
    const containers = subject.object.spec?.template?.spec?.containers ?? [];
    return containers.flatMap((c, i) =>
      (c.args ?? []).flatMap((arg, j) =>
        INSECURE_ARG.test(arg)
          ? [
              violation(
                `${subject.name} runs with ${arg}`,
                `spec.template.spec.containers[${i}].args[${j}]`,
                'remove the insecure argument (in values: set insecure: false)',
              ),
            ]
          : [],
      ),
    );
  },
};
