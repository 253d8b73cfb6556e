import type { Policy, PolicyViolation } from '../engine/types.js';
import { ambiguousFlag, violation } from './util.js';

/** Refuses a management plane whose relay option the vendor suggests only for testing or POCs. */
export const noDefaultRelayCa: Policy = {
  id: 'no-default-relay-ca',
  title: 'Relay must not use the self-signed default CA',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'The relay setup option is selected by relay.disableCa and relay.disableCaCertGeneration, and the vendor ' +
    'gives each option a suggested environment (relay setup options, 2.3+; production best practices, 2.0). ' +
    'The default, disableCaCertGeneration: false, makes the management server generate its own self-signed root ' +
    'CA ("Testing or POCs"), and so does disableCa: true with generation still on. Production options pass: ' +
    '"custom CAs with automatic client certificate rotation" (disableCa: false, disableCaCertGeneration: true, ' +
    'your intermediate CA in the signing Secret) and your own server and agent certificates (both true). ' +
    'Insecure relay is judged by no-insecure-relay.',
  remediation:
    'set relay.disableCaCertGeneration: true and bring your CA: your intermediate CA in the signing Secret ' +
    '(disableCa: false), or your own server and agent certificates (disableCa: true)',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const mgmt = subject.model.mgmtServer;
    if (!mgmt?.enabled.value || subject.model.insecure.some((f) => f.value && !f.ambiguous)) return [];
    const { disableCa, disableCaCertGeneration: gen } = mgmt.relay;
    const unclear = [disableCa, gen].filter((f) => f.ambiguous);
    if (unclear.length > 0) return unclear.map(ambiguousFlag);
    const option = subject.model.relayOption;
    if (!option || option.environment === 'Production') return [];
    return [
      violation(
        `management server generates a self-signed relay CA ("${option.title}": the vendor suggests it for ${option.environment})`,
        gen.path,
        `set ${gen.path}: true with your intermediate CA in the signing Secret, or also ${disableCa.path}: true with your own certificates`,
      ),
    ];
  },
};
