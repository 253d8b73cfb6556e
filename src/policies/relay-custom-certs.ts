import type { ClusterView, Policy, PolicyViolation, ReleaseSubject, SecretRef } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { violation } from './util.js';

interface Need {
  ref: SecretRef;
  what: string;
}

/** The namespace a Secret is looked up in: the one the values name, else the release's. */
function nsOf(ref: SecretRef, fallback: string): string {
  return isSet(ref.namespace.value) ? ref.namespace.value : fallback;
}

function unnamed(n: Need): PolicyViolation {
  return violation(
    `${n.what} is not named`,
    n.ref.name.path,
    `set ${n.ref.name.path} to the Secret that holds it`,
  );
}

function missing(n: Need, ns: string, cluster: ClusterView | undefined): PolicyViolation[] {
  const name = n.ref.name.value;
  if (!cluster || !isSet(name) || cluster.secretExists(nsOf(n.ref, ns), name)) return [];
  const where = nsOf(n.ref, ns);
  return [
    {
      ...violation(
        `${n.what} "${name}" does not exist in namespace ${where}`,
        n.ref.name.path,
        `create Secret ${where}/${name}`,
      ),
      warnOnly: true,
    },
  ];
}

/** What the management server needs: `disableCa: true` -> its server TLS Secret; CA with generation off -> also the signing Secret. */
function mgmtNeeds(subject: ReleaseSubject): Need[] {
  const mgmt = subject.model.mgmtServer;
  if (!mgmt?.enabled.value) return [];
  const { disableCa, disableCaCertGeneration, tlsSecret, signingTlsSecret } = mgmt.relay;
  if (disableCa.ambiguous || disableCaCertGeneration.ambiguous) return []; // reported by no-default-relay-ca
  const server = { ref: tlsSecret, what: 'relay server TLS Secret' };
  if (disableCa.value) return [server];
  return disableCaCertGeneration.value
    ? [server, { ref: signingTlsSecret, what: 'relay signing CA Secret' }]
    : [];
}

/** An agent needs its client TLS Secret, or a token Secret plus the root CA Secret to bootstrap one. */
function agentFindings(
  subject: ReleaseSubject,
  ns: string,
  cluster: ClusterView | undefined,
): PolicyViolation[] {
  const agent = subject.model.agent;
  if (!agent?.enabled.value || subject.model.insecure.some((f) => f.value)) return [];
  const { clientTlsSecret, rootTlsSecret, tokenSecret } = agent.relay;
  const client = { ref: clientTlsSecret, what: 'relay client TLS Secret' };
  const token = { ref: tokenSecret, what: 'relay identity token Secret' };
  const root = { ref: rootTlsSecret, what: 'relay root CA Secret' };
  const bootstrap = isSet(tokenSecret.name.value) && isSet(rootTlsSecret.name.value);
  if (!isSet(clientTlsSecret.name.value) && !bootstrap) {
    return [
      violation(
        'the agent has neither a client TLS Secret nor a token and root CA Secret to get one',
        clientTlsSecret.name.path,
        `set ${clientTlsSecret.name.path}, or ${tokenSecret.name.path} and ${rootTlsSecret.name.path}`,
      ),
    ];
  }
  if (!cluster) return [];
  const exists = (n: Need): boolean =>
    isSet(n.ref.name.value) && cluster.secretExists(nsOf(n.ref, ns), n.ref.name.value);
  if (exists(client) || (exists(token) && exists(root))) return [];
  if (isSet(clientTlsSecret.name.value)) return missing(client, ns, cluster);
  return [...missing(token, ns, cluster), ...missing(root, ns, cluster)];
}

/** Refuses custom relay certificates that are not fully named. */
export const relayCustomCerts: Policy = {
  id: 'relay-custom-certs',
  title: 'Custom relay certificates must be fully named',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'Per role, as the chart reference says: with relay.disableCa: true the management server needs only its server ' +
    'TLS Secret (tlsSecret; "the gloo-mesh-mgmt-server pod will not require a token secret or the signing cert ' +
    'secret"); with its CA on but certificate generation off (your intermediate CA) it needs tlsSecret and ' +
    'signingTlsSecret. An agent needs its client TLS Secret (clientTlsSecret), or a token Secret plus the root CA ' +
    'Secret (tokenSecret and rootTlsSecret) to bootstrap one. An empty name leaves relay without certificates. With ' +
    'a cluster view, a named Secret that does not exist in the namespace the values name (*.namespace), else the ' +
    'release namespace, is reported as a warning.',
  remediation:
    'name the Secret that holds the certificate (relay.*TlsSecret.name) and create it before installing',
  appliesTo: ['release'],
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const ns = subject.release.namespace ?? ctx.namespaces.management;
    const mgmt = mgmtNeeds(subject).flatMap((n) =>
      isSet(n.ref.name.value) ? missing(n, ns, ctx.cluster) : [unnamed(n)],
    );
    return [...mgmt, ...agentFindings(subject, ns, ctx.cluster)];
  },
};
