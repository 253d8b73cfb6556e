import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateExpiry, generateCa, generateServing } from '../../src/certs/generate.js';
import { serviceDnsNames } from '../../src/certs/rotation.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;

describe('certificate generation', () => {
  const ca = generateCa('gloo-guard-ca-test', 100, NOW);
  const dnsNames = serviceDnsNames('gloo-guard', 'gloo-guard-system');
  const serving = generateServing(ca, { dnsNames, days: 30, now: NOW });
  const caCert = new X509Certificate(ca.certPem);
  const leaf = new X509Certificate(serving.certPem);

  it('when a service and namespace are given, then the four in-cluster names are the SANs', () => {
    expect(dnsNames).toEqual([
      'gloo-guard',
      'gloo-guard.gloo-guard-system',
      'gloo-guard.gloo-guard-system.svc',
      'gloo-guard.gloo-guard-system.svc.cluster.local',
    ]);
    expect(leaf.subjectAltName?.split(', ')).toEqual(dnsNames.map((n) => `DNS:${n}`));
    // The API server dials <service>.<namespace>.svc; Go refuses a CN-only certificate.
    expect(leaf.checkHost('gloo-guard.gloo-guard-system.svc')).toBe('gloo-guard.gloo-guard-system.svc');
    expect(leaf.checkHost('other.gloo-guard-system.svc')).toBeUndefined();
  });

  it('when a CA is generated, then it is a CA that signs, and its key matches', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=gloo-guard-ca-test');
    expect(caCert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true); // self-signed
  });

  it('when a serving certificate is generated, then it is a leaf for server auth signed by the CA', () => {
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
    expect(leaf.serialNumber).not.toBe(caCert.serialNumber);
  });

  it('when validity is given in days, then notAfter is that far from now, and notBefore allows clock skew', () => {
    expect(new Date(caCert.validTo).getTime()).toBe(NOW.getTime() + 100 * DAY);
    expect(new Date(leaf.validTo).getTime()).toBe(NOW.getTime() + 30 * DAY);
    expect(certificateExpiry(serving.certPem).getTime()).toBe(NOW.getTime() + 30 * DAY);
    expect(new Date(leaf.validFrom).getTime()).toBe(NOW.getTime() - 5 * 60 * 1000);
  });
});
