// The self-managed certificate store over KubeRest, against a local API stand-in that records each
// request: which answers are outcomes (missing, raced, gone) and which are failures, and what is sent.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Kubeconfig } from '../../src/k8s/kubeconfig.js';
import { KubeApiError } from '../../src/k8s/rest.js';
import { createTlsStore, type TlsStore } from '../../src/k8s/tls-store.js';

interface Seen {
  method: string;
  url: string;
  contentType: string;
  body: unknown;
}

const seen: Seen[] = [];
let answer: (req: Seen) => { status: number; body?: unknown } = () => ({ status: 500 });
let server: Server;
let store: TlsStore;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((done) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => done(text));
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void read(req).then((text) => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: text ? JSON.parse(text) : undefined,
      };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body ?? { kind: 'Status', message: `status ${a.status}` }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const file = join(mkdtempSync(join(tmpdir(), 'gg-tls-store-')), 'kubeconfig');
  writeFileSync(
    file,
    stringify({
      clusters: [
        {
          name: 'c',
          cluster: {
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            'insecure-skip-tls-verify': true,
          },
        },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  store = createTlsStore(Kubeconfig.load(file).access(), {
    namespace: 'gloo-guard',
    secretName: 'tls',
    webhookConfigName: 'gg',
  });
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const SECRET = '/api/v1/namespaces/gloo-guard/secrets/tls';

describe('the TLS store over the API', () => {
  it('when the Secret exists, then its data is decoded and its version kept; when it is missing, undefined', async () => {
    answer = () => ({
      status: 200,
      body: { metadata: { resourceVersion: '7', annotations: { a: 'b' } }, data: { 'ca.crt': 'UEVN' } },
    });
    expect(await store.readSecret()).toEqual({
      data: { 'ca.crt': 'PEM' },
      annotations: { a: 'b' },
      resourceVersion: '7',
    });
    answer = () => ({ status: 404 });
    expect(await store.readSecret()).toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: SECRET });
  });

  it('when creating, then 409 is "exists", and 404 (no namespace) or 403 is a failure, never a write', async () => {
    answer = () => ({ status: 201, body: { metadata: { resourceVersion: '9' } } });
    expect(await store.createSecret({ 'tls.crt': 'x' }, {})).toEqual({ ok: true, resourceVersion: '9' });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/api/v1/namespaces/gloo-guard/secrets?fieldManager=gloo-guard',
      body: { type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } },
    });
    answer = () => ({ status: 409 });
    expect(await store.createSecret({}, {})).toEqual({ ok: false, reason: 'exists' });
    answer = () => ({ status: 404 });
    await expect(store.createSecret({}, {})).rejects.toBeInstanceOf(KubeApiError);
    answer = () => ({ status: 403, body: { message: 'secrets is forbidden' } });
    await expect(store.createSecret({}, {})).rejects.toThrow(/forbidden/);
  });

  it('when patching, then it sends a merge patch at the version read; 409 is "conflict", 404 is "gone"', async () => {
    answer = () => ({ status: 200, body: { metadata: { resourceVersion: '10' } } });
    expect(await store.patchSecret({ k: 'v' }, { n: 'm' }, '9')).toEqual({ ok: true, resourceVersion: '10' });
    expect(seen.at(-1)).toMatchObject({
      method: 'PATCH',
      url: `${SECRET}?fieldManager=gloo-guard`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { resourceVersion: '9', annotations: { n: 'm' } }, data: { k: 'dg==' } },
    });
    answer = () => ({ status: 409 });
    expect(await store.patchSecret({}, {}, '9')).toEqual({ ok: false, reason: 'conflict' });
    answer = () => ({ status: 404 });
    expect(await store.patchSecret({}, {}, '9')).toEqual({ ok: false, reason: 'gone' });
  });

  it('when the webhook configuration is read and patched, then caBundles are decoded and set by strategic merge', async () => {
    answer = () => ({
      status: 200,
      body: {
        webhooks: [
          { name: 'a', clientConfig: { caBundle: 'UEVN' } },
          { name: 'b', clientConfig: {} },
        ],
      },
    });
    expect(await store.readWebhookCaBundles()).toEqual([
      { name: 'a', caBundlePem: 'PEM' },
      { name: 'b', caBundlePem: '' },
    ]);
    answer = () => ({ status: 404 });
    expect(await store.readWebhookCaBundles()).toBeUndefined();
    answer = () => ({ status: 200, body: {} });
    await store.patchWebhookCaBundles(['a', 'b'], 'PEM');
    expect(seen.at(-1)).toMatchObject({
      method: 'PATCH',
      url: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/gg?fieldManager=gloo-guard',
      contentType: 'application/strategic-merge-patch+json',
      body: {
        webhooks: [
          { name: 'a', clientConfig: { caBundle: 'UEVN' } },
          { name: 'b', clientConfig: { caBundle: 'UEVN' } },
        ],
      },
    });
    answer = () => ({ status: 404 });
    await expect(store.patchWebhookCaBundles(['a'], 'PEM')).rejects.toBeInstanceOf(KubeApiError);
  });
});
