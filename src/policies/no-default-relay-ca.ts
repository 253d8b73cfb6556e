import type { Policy, PolicyViolation } from '../engine/types.js';
import { isTrue } from '../engine/values.js';
import { violation } from './util.js';

/** Refuses a management plane that still generates its own self-signed relay CA. */
export const noDefaultRelayCa: Policy = {
  id: 'no-default-relay-ca',
  title: 'Relay must not use the self-signed default CA',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'By default the management server creates a self-signed root CA and signing CA at install time for relay mTLS. ' +
    'These certificates are not rotated by any automation and are not suitable for production.',
  remediation:
    'bring your own relay certificates (AWS ACM, Vault, cert-manager) and set relay.disableCa: true and relay.disableCaCertGeneration: true',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const mgmt = subject.model.mgmtServer;
    if (!mgmt?.enabled.value) return [];
    return [mgmt.relay.disableCa, mgmt.relay.disableCaCertGeneration]
      .filter((s) => !isTrue(s.value))
      .map((s) =>
        violation(
          'management server generates a self-signed relay CA',
          s.path,
          `set ${s.path}: true and provide relay certificates from your own CA`,
        ),
      );
  },
};
