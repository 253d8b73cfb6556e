/** Certificate generation for the webhook's serving certificate: a CA and a leaf signed by it. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A PEM certificate with its key. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** A CA and the serving certificate it signed. */
export interface ServingBundle {
  ca: KeyPair;
  serving: KeyPair;
}

/** Options for a generated certificate. */
export interface CertOptions {
  /** DNS names for the SAN (the first is also the CN). */
  dnsNames: string[];
  /** IP addresses for the SAN. */
  ipAddresses?: string[];
  /** Validity in days. */
  days: number;
  /** Clock, for tests. */
  now?: Date;
}

function newKeys(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.PrivateKey; keyPem: string } {
  // Node's crypto makes the key pair: forge's pure-JS RSA generation takes seconds.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem };
}

function serial(): string {
  // Positive, 16 bytes: the top bit cleared so DER does not read it as negative.
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number, now: Date): void {
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 24 * 3600 * 1000);
}

/** Creates a self-signed CA. */
export function generateCa(commonName: string, days: number, now = new Date()): KeyPair {
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, days, now);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** Creates a serving certificate signed by `ca`, with SANs (a CN alone is refused by Kubernetes). */
export function generateServing(ca: KeyPair, opts: CertOptions): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = newKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert, opts.days, opts.now ?? new Date());
  cert.setSubject([{ name: 'commonName', value: opts.dnsNames[0] ?? 'gloo-guard' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...opts.dnsNames.map((value) => ({ type: 2, value })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/** Creates a CA and a serving certificate for the given names in one step. */
export function generateServingBundle(opts: CertOptions & { caDays?: number }): ServingBundle {
  const ca = generateCa('gloo-guard-ca', opts.caDays ?? opts.days * 2, opts.now);
  return { ca, serving: generateServing(ca, opts) };
}

/** The notAfter date of a PEM certificate. */
export function certificateExpiry(certPem: string): Date {
  return forge.pki.certificateFromPem(certPem).validity.notAfter;
}
