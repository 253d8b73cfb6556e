import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCa, generateServing } from '../../src/certs/generate.js';
import {
  DEFAULT_THRESHOLDS,
  mergeCaBundle,
  nextState,
  planRotation,
  rotationDecision,
  serviceDnsNames,
  splitPemBundle,
  stateFromSecretData,
  stateToSecretData,
  type CertState,
} from '../../src/certs/rotation.js';

const DAY = 86_400_000;
const NOW = new Date('2030-06-01T00:00:00Z');
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY);
const T = { caRotateBeforeMs: 30 * DAY, servingRenewBeforeMs: 10 * DAY };
const NAMES = serviceDnsNames('gloo-guard', 'gg');
const subjects = (pem: string): string[] => splitPemBundle(pem).map((p) => new X509Certificate(p).subject);

describe('rotationDecision', () => {
  it('when both certificates are far from expiry, then nothing happens', () => {
    expect(rotationDecision(NOW, at(365), at(100), T)).toBe('none');
  });

  it('when the serving certificate reaches its threshold, then it is renewed; one millisecond earlier, not', () => {
    expect(rotationDecision(NOW, at(365), new Date(at(10).getTime() + 1), T)).toBe('none');
    expect(rotationDecision(NOW, at(365), at(10), T)).toBe('renew-serving');
    expect(rotationDecision(NOW, at(365), at(-1), T)).toBe('renew-serving');
  });

  it('when the CA reaches its threshold, then the CA rotates, whatever the serving certificate', () => {
    expect(rotationDecision(NOW, new Date(at(30).getTime() + 1), at(100), T)).toBe('none');
    expect(rotationDecision(NOW, at(30), at(100), T)).toBe('rotate-ca');
    expect(rotationDecision(NOW, at(30), at(1), T)).toBe('rotate-ca');
    expect(rotationDecision(NOW, at(-5), at(-5), T)).toBe('rotate-ca');
  });

  it('when no thresholds are given, then the defaults rotate months ahead', () => {
    expect(DEFAULT_THRESHOLDS.caRotateBeforeMs).toBe(180 * DAY);
    expect(DEFAULT_THRESHOLDS.servingRenewBeforeMs).toBe(90 * DAY);
    expect(rotationDecision(NOW, at(181), at(91))).toBe('none');
    expect(rotationDecision(NOW, at(181), at(90))).toBe('renew-serving');
    expect(rotationDecision(NOW, at(180), at(365))).toBe('rotate-ca');
  });
});

describe('mergeCaBundle', () => {
  const oldCa = generateCa('old', 10, at(-5)); // expires at(5)
  const newCa = generateCa('new', 100, NOW);
  const expired = generateCa('expired', 1, at(-10));
  const leaf = generateServing(newCa, { dnsNames: NAMES, days: 10, now: NOW });

  it('when a new and an old CA are merged, then both are kept, new first', () => {
    expect(subjects(mergeCaBundle([newCa.certPem, oldCa.certPem], NOW))).toEqual(['CN=new', 'CN=old']);
  });

  it('when a CA appears twice, then it is kept once, at its first place', () => {
    const merged = mergeCaBundle([newCa.certPem, oldCa.certPem + newCa.certPem, oldCa.certPem], NOW);
    expect(subjects(merged)).toEqual(['CN=new', 'CN=old']);
  });

  it('when a CA has expired, then it is dropped; the old CA goes once its notAfter passes', () => {
    expect(subjects(mergeCaBundle([newCa.certPem, expired.certPem, oldCa.certPem], NOW))).toEqual([
      'CN=new',
      'CN=old',
    ]);
    expect(subjects(mergeCaBundle([newCa.certPem, oldCa.certPem], at(5)))).toEqual(['CN=new']);
  });

  it('when the input holds a leaf, garbage or nothing, then only CA certificates come out', () => {
    const junk = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
    expect(subjects(mergeCaBundle([leaf.certPem, junk, 'text', '', newCa.certPem], NOW))).toEqual(['CN=new']);
    expect(mergeCaBundle([], NOW)).toBe('');
  });

  it('when a bundle is merged twice, then the result is the same (stable for comparisons)', () => {
    const once = mergeCaBundle([newCa.certPem, oldCa.certPem], NOW);
    expect(mergeCaBundle([once], NOW)).toBe(once);
    expect(once.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
  });
});

describe('planRotation and nextState', () => {
  // Key generation costs ~100 ms: one state serves every test that does not change it.
  const base: CertState = nextState('rotate-ca', {}, { now: NOW, dnsNames: NAMES });
  const fresh = (): CertState => base;

  it('when nothing is stored, then a CA and serving certificate are issued for the service names', () => {
    expect(planRotation({}, { now: NOW, dnsNames: NAMES })).toEqual({
      decision: 'rotate-ca',
      reason: 'no usable CA is stored yet',
    });
    const s = fresh();
    expect(planRotation(s, { now: NOW, dnsNames: NAMES }).decision).toBe('none');
    expect(splitPemBundle(s.caBundlePem)).toHaveLength(1);
    const leaf = new X509Certificate(s.certPem);
    expect(leaf.checkIssued(new X509Certificate(s.caBundlePem))).toBe(true);
    expect(new Date(leaf.validTo).getTime()).toBe(at(365).getTime());
  });

  it('when the state goes through Secret data, then it comes back unchanged, under the conventional keys', () => {
    const s = fresh();
    const data = stateToSecretData(s);
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(stateFromSecretData(data)).toEqual(s);
    expect(stateFromSecretData(undefined)).toEqual({});
    expect(stateFromSecretData({ 'tls.crt': '' })).toEqual({});
  });

  it('when the CA nears expiry, then the new CA signs a new certificate and the old CA stays in the bundle', () => {
    const s = fresh();
    const later = at(5 * 365 - 100);
    expect(planRotation(s, { now: later, dnsNames: NAMES }).decision).toBe('rotate-ca');
    const next = nextState('rotate-ca', s, { now: later, dnsNames: NAMES });
    const bundle = splitPemBundle(next.caBundlePem);
    expect(bundle).toHaveLength(2);
    expect(bundle[1]).toBe(splitPemBundle(s.caBundlePem)[0]);
    expect(new X509Certificate(next.certPem).checkIssued(new X509Certificate(bundle[0]!))).toBe(true);
    expect(planRotation(next, { now: later, dnsNames: NAMES }).decision).toBe('none');
  });

  it('when only the serving certificate nears expiry, then the CA is kept and the bundle is unchanged', () => {
    const s = fresh();
    const later = at(300);
    expect(planRotation(s, { now: later, dnsNames: NAMES })).toEqual({
      decision: 'renew-serving',
      reason: 'the serving certificate is close to expiry',
    });
    const next = nextState('renew-serving', s, { now: later, dnsNames: NAMES });
    expect(next.caBundlePem).toBe(s.caBundlePem);
    expect(next.caKeyPem).toBe(s.caKeyPem);
    expect(next.certPem).not.toBe(s.certPem);
  });

  it('when the CA has less time left than a serving certificate would get, then the certificate ends with the CA', () => {
    const s = fresh();
    const caEnd = new Date(new X509Certificate(s.caBundlePem).validTo);
    const later = new Date(caEnd.getTime() - 200 * DAY);
    const next = nextState('renew-serving', s, { now: later, dnsNames: NAMES });
    expect(new Date(new X509Certificate(next.certPem).validTo).getTime()).toBe(caEnd.getTime());
  });

  it('when the service was renamed, then the serving certificate is reissued with the new names', () => {
    const plan = planRotation(fresh(), { now: NOW, dnsNames: serviceDnsNames('renamed', 'gg') });
    expect(plan.decision).toBe('renew-serving');
    expect(plan.reason).toContain('renamed.gg.svc');
  });

  it('when keys do not match their certificates, then the broken part is replaced', () => {
    const a = fresh();
    const b = nextState('rotate-ca', {}, { now: NOW, dnsNames: NAMES });
    expect(planRotation({ ...a, caKeyPem: b.caKeyPem }, { now: NOW, dnsNames: NAMES }).decision).toBe(
      'rotate-ca',
    );
    expect(planRotation({ ...a, keyPem: b.keyPem }, { now: NOW, dnsNames: NAMES }).reason).toBe(
      'tls.key does not match tls.crt',
    );
    expect(
      planRotation({ ...a, certPem: b.certPem, keyPem: b.keyPem }, { now: NOW, dnsNames: NAMES }).reason,
    ).toBe('the serving certificate was not signed by the CA');
    expect(planRotation({ ...a, certPem: 'garbage' }, { now: NOW, dnsNames: NAMES }).decision).toBe(
      'renew-serving',
    );
  });

  it('when the first certificate of ca.crt is a leaf, then a new CA is made', () => {
    const a = fresh();
    expect(planRotation({ ...a, caBundlePem: a.certPem }, { now: NOW, dnsNames: NAMES }).decision).toBe(
      'rotate-ca',
    );
  });

  it('when "none" is applied to an incomplete state, then it refuses instead of inventing one', () => {
    expect(() => nextState('none', {}, { now: NOW, dnsNames: NAMES })).toThrow(/complete state/);
    expect(() => nextState('renew-serving', {}, { now: NOW, dnsNames: NAMES })).toThrow(/stored CA/);
  });
});
