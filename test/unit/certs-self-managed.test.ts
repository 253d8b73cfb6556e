// The self-managed certificate loop against an in-memory TlsStore that behaves like the API server
// for the calls it makes (resourceVersion preconditions, 409 on create). The real API path is
// exercised end to end against kube-apiserver in test/e2e.
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from '../robustness/support.js';
import {
  startCertRotation,
  type CertLogger,
  type CertRotationOptions,
  type SelfManagedCerts,
  type TlsMaterial,
} from '../../src/certs/self-managed.js';
import { splitPemBundle } from '../../src/certs/rotation.js';
import type { SecretSnapshot, TlsStore, WebhookCaBundle, WriteResult } from '../../src/k8s/tls-store.js';

const DAY = 86_400_000;

class MemoryStore implements TlsStore {
  readonly secretRef = 'gg/gloo-guard-tls';
  readonly webhookConfigName = 'gloo-guard';
  secret: { data: Record<string, string>; annotations: Record<string, string>; rv: number } | undefined = {
    data: {},
    annotations: { 'meta.helm.sh/release-name': 'gg' },
    rv: 1,
  };
  webhooks: Map<string, string> | undefined = new Map([
    ['releases.gloo-guard.io', ''],
    ['namespaces.gloo-guard.io', ''],
  ]);
  createForbidden = false;
  events: string[] = [];
  private rv = 1;

  readSecret(): Promise<SecretSnapshot | undefined> {
    const s = this.secret;
    return Promise.resolve(
      s && { data: { ...s.data }, annotations: { ...s.annotations }, resourceVersion: String(s.rv) },
    );
  }

  createSecret(data: Record<string, string>, annotations: Record<string, string>): Promise<WriteResult> {
    if (this.createForbidden) return Promise.reject(new Error('secrets is forbidden: cannot create'));
    if (this.secret) return Promise.resolve({ ok: false, reason: 'exists' });
    this.secret = { data: { ...data }, annotations: { ...annotations }, rv: ++this.rv };
    this.events.push('create');
    return Promise.resolve({ ok: true, resourceVersion: String(this.rv) });
  }

  patchSecret(
    data: Record<string, string>,
    annotations: Record<string, string>,
    rv: string,
  ): Promise<WriteResult> {
    if (!this.secret) return Promise.resolve({ ok: false, reason: 'gone' });
    if (String(this.secret.rv) !== rv) {
      this.events.push('conflict');
      return Promise.resolve({ ok: false, reason: 'conflict' });
    }
    this.secret = {
      data: { ...this.secret.data, ...data },
      annotations: { ...this.secret.annotations, ...annotations },
      rv: ++this.rv,
    };
    this.events.push('patch');
    return Promise.resolve({ ok: true, resourceVersion: String(this.rv) });
  }

  readWebhookCaBundles(): Promise<WebhookCaBundle[] | undefined> {
    const w = this.webhooks;
    return Promise.resolve(w && [...w].map(([name, caBundlePem]) => ({ name, caBundlePem })));
  }

  patchWebhookCaBundles(names: readonly string[], caBundlePem: string): Promise<void> {
    if (!this.webhooks) return Promise.reject(new Error('not found'));
    for (const n of names) this.webhooks.set(n, caBundlePem);
    this.events.push(`bundle:${splitPemBundle(caBundlePem).length}`);
    return Promise.resolve();
  }
}

function memoryLog(): CertLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (_obj: object, msg: string) => lines.push(`${level} ${msg}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

const running: SelfManagedCerts[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const r of running.splice(0)) r.stop();
});

async function start(store: TlsStore, opts: Partial<CertRotationOptions> = {}): Promise<SelfManagedCerts> {
  const r = await startCertRotation(store, {
    namespace: 'gg',
    serviceName: 'gloo-guard',
    log: memoryLog(),
    propagationDelayMs: 0,
    checkIntervalMs: 3_600_000,
    startTimeoutMs: 0,
    ...opts,
  });
  running.push(r);
  return r;
}

const caSubjects = (pem: string): string[] => splitPemBundle(pem).map((p) => new X509Certificate(p).subject);
const nextChange = (r: SelfManagedCerts): Promise<TlsMaterial> =>
  new Promise((resolve) => r.onChange(resolve));

describe('self-managed certificates', () => {
  it('when two replicas start at once on the empty Secret, then one writes, the other adopts its certificates', async () => {
    const store = new MemoryStore();
    const [a, b] = await Promise.all([start(store), start(store)]);
    expect(a.current()).toEqual(b.current());
    expect(store.events.filter((e) => e === 'patch')).toHaveLength(1);
    expect(store.events).toContain('conflict');
    expect(store.secret?.data['tls.crt']).toBe(a.current().certPem);
    expect(store.secret?.annotations['meta.helm.sh/release-name']).toBe('gg'); // Helm's metadata kept
    expect(store.secret?.annotations['gloo-guard.io/ca-not-after']).toMatch(/^\d{4}-/);
    for (const bundle of store.webhooks!.values()) expect(bundle).toBe(a.current().caBundlePem);
    expect(new X509Certificate(a.current().certPem).checkHost('gloo-guard.gg.svc')).toBe('gloo-guard.gg.svc');
  });

  it('when the Secret does not exist, then it is created; a replica that loses the create adopts the winner', async () => {
    const store = new MemoryStore();
    store.secret = undefined;
    const [a, b] = await Promise.all([start(store), start(store)]);
    expect(store.events.filter((e) => e === 'create')).toHaveLength(1);
    expect(a.current().certPem).toBe(b.current().certPem);
  });

  it('when the Secret is missing and cannot be created, then startup fails naming the Secret and the fix', async () => {
    const store = new MemoryStore();
    store.secret = undefined;
    store.createForbidden = true;
    await expect(start(store)).rejects.toThrow(
      /Secret gg\/gloo-guard-tls does not exist and could not be created .*forbidden.*helm upgrade/,
    );
  });

  it('when the webhook configuration does not exist yet, then the certificate is served and the caBundle set later', async () => {
    const store = new MemoryStore();
    const webhooks = store.webhooks;
    store.webhooks = undefined;
    const log = memoryLog();
    const r = await start(store, { log });
    expect(r.current().certPem).toContain('BEGIN CERTIFICATE');
    expect(log.lines).toContain(
      'warn the ValidatingWebhookConfiguration does not exist yet; will set its caBundle when it does',
    );
    store.webhooks = webhooks;
    await r.checkNow();
    for (const bundle of store.webhooks!.values()) expect(bundle).toBe(r.current().caBundlePem);
  });

  it('when another replica rotates the CA, then a check here switches to it, with old and new CA trusted', async () => {
    const store = new MemoryStore();
    const a = await start(store);
    const first = a.current();
    const later = new Date(Date.now() + (5 * 365 - 100) * DAY);
    const b = await start(store, { now: () => later });
    expect(caSubjects(b.current().caBundlePem)).toHaveLength(2);
    expect(caSubjects(b.current().caBundlePem)[1]).toBe(caSubjects(first.caBundlePem)[0]);

    const changed = nextChange(a);
    await a.checkNow();
    const got = await changed;
    expect(got.certPem).toBe(b.current().certPem);
    expect(a.current()).toEqual(got);
    for (const bundle of store.webhooks!.values()) expect(caSubjects(bundle)).toHaveLength(2);
  });

  it('when the periodic check runs, then it picks up a rotation without being asked', async () => {
    const store = new MemoryStore();
    const a = await start(store, { checkIntervalMs: 20 });
    const changed = nextChange(a);
    const later = new Date(Date.now() + 300 * DAY); // the serving certificate is due
    const b = await start(store, { now: () => later });
    expect((await changed).certPem).toBe(b.current().certPem);
    // Same CA: the webhook configuration did not need to change.
    expect(store.events.filter((e) => e.startsWith('bundle:'))).toEqual(['bundle:1']);
  });

  it('when a check has to patch the caBundle, then the new certificate is served only after the propagation delay', async () => {
    const store = new MemoryStore();
    const a = await start(store);
    store.secret = { data: {}, annotations: {}, rv: 99 }; // wiped: the next check makes a new CA
    const t0 = Date.now();
    let patchedAt = 0;
    const original = store.patchWebhookCaBundles.bind(store);
    store.patchWebhookCaBundles = (names, pem) => {
      patchedAt = Date.now();
      return original(names, pem);
    };
    const b = await start(store, { propagationDelayMs: 150 });
    expect(patchedAt).toBeGreaterThanOrEqual(t0);
    expect(Date.now() - patchedAt).toBeGreaterThanOrEqual(140);
    expect(b.current().certPem).not.toBe(a.current().certPem);
  });

  it('when the caBundle was wiped (helm upgrade --force), then the next check restores it', async () => {
    const store = new MemoryStore();
    const r = await start(store);
    store.webhooks!.set('releases.gloo-guard.io', '');
    await r.checkNow();
    expect(store.webhooks!.get('releases.gloo-guard.io')).toBe(r.current().caBundlePem);
  });

  it('when a check fails, then the current certificate is kept and the error is logged, not thrown at the server', async () => {
    const store = new MemoryStore();
    const log = memoryLog();
    const r = await start(store, { log, checkIntervalMs: 10, retryIntervalMs: 10 });
    const before = r.current();
    const failed = 'error webhook certificate check failed; keeping the current certificate';
    store.readSecret = () => Promise.reject(new Error('connection refused'));
    await until('the failed check logged', () => (log.lines.includes(failed) ? true : undefined));
    expect(r.current()).toBe(before);
  });

  it('when stopped, then no further checks run', async () => {
    const store = new MemoryStore();
    const r = await start(store, { checkIntervalMs: 5 });
    // Fake timers from here: every check the stopped rotation could still have scheduled comes due.
    vi.useFakeTimers();
    r.stop();
    let reads = 0;
    store.readSecret = () => {
      reads++;
      return Promise.resolve(undefined);
    };
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads).toBe(0);
  });

  it('when the server passes its pino logger, then it fits the logger type', () => {
    const logger: CertLogger = pino({ level: 'silent' });
    expect(typeof logger.info).toBe('function');
  });
});
