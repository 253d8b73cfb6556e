import type { Policy, PolicyViolation, ReleaseSubject, Setting } from '../engine/types.js';
import { isSet, isTrue } from '../engine/values.js';
import { violation } from './util.js';

function namedSecrets(
  subject: ReleaseSubject,
): Array<{ s: Setting<unknown>; what: string; namespace?: string }> {
  const out: Array<{ s: Setting<unknown>; what: string; namespace?: string }> = [];
  const mgmt = subject.model.mgmtServer;
  if (mgmt?.enabled.value && isTrue(mgmt.relay.disableCa.value)) {
    out.push({ s: mgmt.relay.tlsSecretName, what: 'relay server TLS Secret' });
    out.push({ s: mgmt.relay.signingTlsSecretName, what: 'relay signing TLS Secret' });
  }
  const agent = subject.model.agent;
  if (agent?.enabled.value) {
    out.push({ s: agent.relay.clientTlsSecretName, what: 'relay client TLS Secret' });
    out.push({ s: agent.relay.rootTlsSecretName, what: 'relay root CA Secret' });
  }
  return out;
}

/** Refuses custom relay certificates that are not fully named. */
export const relayCustomCerts: Policy = {
  id: 'relay-custom-certs',
  title: 'Custom relay certificates must be fully named',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'When the built-in CA is disabled, the management server needs its server TLS Secret and signing Secret, and each ' +
    'agent needs its client TLS Secret and the root CA Secret. An empty name leaves relay without certificates. ' +
    'With a cluster view, a named Secret that does not exist is reported as a warning.',
  remediation:
    'name the Secret that holds the certificate (relay.*TlsSecret.name) and create it before installing',
  appliesTo: ['release'],
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const ns = subject.release.namespace ?? ctx.namespaces.management;
    return namedSecrets(subject).flatMap(({ s, what }) => {
      if (!isSet(s.value)) {
        return [violation(`${what} is not named`, s.path, `set ${s.path} to the Secret that holds it`)];
      }
      if (ctx.cluster && !ctx.cluster.secretExists(ns, s.value)) {
        return [
          {
            ...violation(
              `${what} "${s.value}" does not exist in namespace ${ns}`,
              s.path,
              `create Secret ${ns}/${s.value}`,
            ),
            warnOnly: true,
          },
        ];
      }
      return [];
    });
  },
};
