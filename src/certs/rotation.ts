/**
 * Pure rules of the self-managed certificates: when to renew or rotate, what the next state is, and
 * how the CA bundle is merged. No I/O here; src/certs/self-managed.ts applies the decisions.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { generateCa, generateServing, type KeyPair } from './generate.js';

const DAY_MS = 24 * 3600 * 1000;

/** What a check decides: nothing, a new serving certificate from the same CA, or a new CA and serving certificate. */
export type RotationDecision = 'none' | 'renew-serving' | 'rotate-ca';

/** How long before expiry each certificate is replaced, in milliseconds. */
export interface RotationThresholds {
  /** Rotate the CA once it has this long or less to live. */
  caRotateBeforeMs: number;
  /** Renew the serving certificate once it has this long or less to live. */
  servingRenewBeforeMs: number;
}

/** Lifetimes of newly issued certificates, in days. */
export interface Validity {
  caDays: number;
  servingDays: number;
}

/** A 5-year CA and 1-year serving certificates (capped at the CA's own expiry). */
export const DEFAULT_VALIDITY: Readonly<Validity> = { caDays: 5 * 365, servingDays: 365 };

/**
 * Rotate the CA with 180 days left and renew the serving certificate with 90 days left: months of
 * slack, so a webhook that was down for weeks still rotates long before anything expires.
 */
export const DEFAULT_THRESHOLDS: Readonly<RotationThresholds> = {
  caRotateBeforeMs: 180 * DAY_MS,
  servingRenewBeforeMs: 90 * DAY_MS,
};

/** Decides from the two expiry dates alone; a date exactly at its threshold already triggers. */
export function rotationDecision(
  now: Date,
  caNotAfter: Date,
  servingNotAfter: Date,
  thresholds: RotationThresholds = DEFAULT_THRESHOLDS,
): RotationDecision {
  if (caNotAfter.getTime() - now.getTime() <= thresholds.caRotateBeforeMs) return 'rotate-ca';
  if (servingNotAfter.getTime() - now.getTime() <= thresholds.servingRenewBeforeMs) return 'renew-serving';
  return 'none';
}

/** The DNS names the API server may use for `<service>.<namespace>.svc`, shortest first. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Splits a PEM bundle into its certificates (anything between them is ignored). */
export function splitPemBundle(pem: string): string[] {
  return (pem.match(PEM_CERT) ?? []).map((c) => `${c}\n`);
}

function parseCert(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The notAfter of a certificate, as a Date. */
export function notAfter(cert: X509Certificate): Date {
  return new Date(cert.validTo);
}

/**
 * Merges PEM bundles into one, keeping the first occurrence of each CA certificate in order: drops
 * duplicates, expired certificates, non-CA certificates and anything that does not parse.
 */
export function mergeCaBundle(bundles: readonly string[], now: Date): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pem of bundles.flatMap(splitPemBundle)) {
    const cert = parseCert(pem);
    if (!cert || !cert.ca || notAfter(cert) <= now || seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    out.push(cert.toString());
  }
  return out.join('');
}

/**
 * Everything the self-managed mode keeps in its Secret. The signing CA is the first certificate of
 * `caBundlePem`; the others are earlier CAs kept while a CA change settles.
 */
export interface CertState {
  /** ca.crt: the bundle the API server trusts (signing CA first). */
  caBundlePem: string;
  /** ca.key: the signing CA's private key. */
  caKeyPem: string;
  /** tls.crt: the serving certificate. */
  certPem: string;
  /** tls.key: its private key. */
  keyPem: string;
}

/** Secret data keys, following the kubernetes.io/tls and cert-manager conventions. */
export const SECRET_KEYS: Readonly<Record<keyof CertState, string>> = {
  caBundlePem: 'ca.crt',
  caKeyPem: 'ca.key',
  certPem: 'tls.crt',
  keyPem: 'tls.key',
};

/** Reads a state out of (decoded) Secret data; missing keys stay undefined. */
export function stateFromSecretData(data: Readonly<Record<string, string>> | undefined): Partial<CertState> {
  const out: Partial<CertState> = {};
  for (const [field, key] of Object.entries(SECRET_KEYS) as Array<[keyof CertState, string]>) {
    const value = data?.[key];
    if (value) out[field] = value;
  }
  return out;
}

/** Writes a state as (not yet base64-encoded) Secret data. */
export function stateToSecretData(state: CertState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, key] of Object.entries(SECRET_KEYS) as Array<[keyof CertState, string]>)
    out[key] = state[field];
  return out;
}

/** A decision with the reason, for the log. */
export interface RotationPlan {
  decision: RotationDecision;
  reason: string;
}

/** What planRotation needs besides the state. */
export interface PlanOptions {
  now: Date;
  dnsNames: readonly string[];
  thresholds?: RotationThresholds;
}

function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function sanDnsNames(cert: X509Certificate): Set<string> {
  const names = (cert.subjectAltName ?? '').split(',').map((s) => s.trim());
  return new Set(names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)));
}

function servingProblem(
  ca: X509Certificate,
  state: Partial<CertState>,
  opts: PlanOptions,
): string | undefined {
  const serving = state.certPem ? parseCert(state.certPem) : undefined;
  if (!serving || !state.keyPem) return 'the serving certificate is missing or unreadable';
  if (!keyMatches(serving, state.keyPem)) return 'tls.key does not match tls.crt';
  if (!serving.checkIssued(ca) || !serving.verify(ca.publicKey))
    return 'the serving certificate was not signed by the CA';
  const sans = sanDnsNames(serving);
  const missing = opts.dnsNames.filter((n) => !sans.has(n));
  if (missing.length > 0) return `the serving certificate lacks the names ${missing.join(', ')}`;
  if (
    !splitPemBundle(state.caBundlePem ?? '').some((p) => parseCert(p)?.fingerprint256 === ca.fingerprint256)
  ) {
    return 'ca.crt does not hold the signing CA';
  }
  return undefined;
}

/**
 * Judges a stored state: anything missing, unreadable or inconsistent about the CA means a new CA;
 * a sound CA with a bad serving certificate means a new serving certificate; else the dates decide.
 */
export function planRotation(state: Partial<CertState>, opts: PlanOptions): RotationPlan {
  const caPem = splitPemBundle(state.caBundlePem ?? '')[0];
  const ca = caPem ? parseCert(caPem) : undefined;
  if (!ca || !state.caKeyPem) return { decision: 'rotate-ca', reason: 'no usable CA is stored yet' };
  if (!ca.ca) return { decision: 'rotate-ca', reason: 'the first certificate of ca.crt is not a CA' };
  if (!keyMatches(ca, state.caKeyPem))
    return { decision: 'rotate-ca', reason: 'ca.key does not match the CA' };
  if (notAfter(ca) <= opts.now) return { decision: 'rotate-ca', reason: 'the CA has expired' };
  const problem = servingProblem(ca, state, opts);
  if (problem) return { decision: 'renew-serving', reason: problem };
  const decision = rotationDecision(
    opts.now,
    notAfter(ca),
    notAfter(new X509Certificate(state.certPem!)),
    opts.thresholds,
  );
  const reason =
    decision === 'rotate-ca'
      ? `the CA expires on ${ca.validTo}`
      : decision === 'renew-serving'
        ? 'the serving certificate is close to expiry'
        : 'certificates are valid';
  return { decision, reason };
}

/** What nextState needs to issue certificates. */
export interface IssueOptions {
  now: Date;
  dnsNames: readonly string[];
  validity?: Validity;
}

function issueServing(ca: KeyPair, caCert: X509Certificate, opts: IssueOptions): KeyPair {
  const validity = opts.validity ?? DEFAULT_VALIDITY;
  // Never outlive the CA: a certificate valid after its issuer expires is not valid at all.
  const caLeftDays = (notAfter(caCert).getTime() - opts.now.getTime()) / DAY_MS;
  const days = Math.min(validity.servingDays, caLeftDays);
  return generateServing(ca, { dnsNames: [...opts.dnsNames], days, now: opts.now });
}

/**
 * Applies a decision to a state. `rotate-ca` puts the new CA first in the bundle and keeps the
 * earlier CAs that are still valid, so replicas still serving an older certificate stay trusted.
 */
export function nextState(
  decision: RotationDecision,
  state: Partial<CertState>,
  opts: IssueOptions,
): CertState {
  const previous = state.caBundlePem ?? '';
  if (decision === 'none') {
    if (!state.caBundlePem || !state.caKeyPem || !state.certPem || !state.keyPem) {
      throw new Error('nextState: "none" needs a complete state');
    }
    return state as CertState;
  }
  let ca: KeyPair;
  if (decision === 'rotate-ca') {
    const stamp = opts.now.toISOString().slice(0, 19).replace(/[-:]/g, '');
    ca = generateCa(`gloo-guard-ca-${stamp}`, (opts.validity ?? DEFAULT_VALIDITY).caDays, opts.now);
  } else {
    const caPem = splitPemBundle(previous)[0];
    if (!caPem || !state.caKeyPem) throw new Error('nextState: "renew-serving" needs a stored CA');
    ca = { certPem: caPem, keyPem: state.caKeyPem };
  }
  const serving = issueServing(ca, new X509Certificate(ca.certPem), opts);
  return {
    caBundlePem: mergeCaBundle([ca.certPem, previous], opts.now),
    caKeyPem: ca.keyPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
  };
}
