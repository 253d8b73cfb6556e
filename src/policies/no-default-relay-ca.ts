import type { Policy, PolicyViolation } from '../engine/types.js';
import { ambiguousFlag, violation } from './util.js';

/** The vendor's suggested environment of a relay option, or what gloo-guard assumes where it is unreadable. */
export function suggested(option: { environment: string; assumed?: string }): string {
  return option.assumed ?? `the vendor suggests it for ${option.environment}`;
}

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
    'From 2.5 the vendor also documents simple TLS (RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION on the ' +
    'management server: relay tokens, no client certificates) with a self-signed or your own server certificate; ' +
    'the self-signed variant is refused here too. Insecure relay and simple TLS are judged by no-insecure-relay.',
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
    if (!option || option.environment === 'Production' || !option.selfSigned) return [];
    return [
      violation(
        `management server generates a self-signed relay CA ("${option.title}": ${suggested(option)})`,
        gen.path,
        `set ${gen.path}: true with your intermediate CA in the signing Secret, or also ${disableCa.path}: true with your own certificates`,
      ),
    ];
  },
};
