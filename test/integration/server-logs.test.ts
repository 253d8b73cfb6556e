import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/log.js';
import {
  objectReview,
  PRODUCTION_VALUES,
  rawReleaseSecret,
  releaseReview,
} from '../fixtures/admission/reviews.js';

const PLANTED = 'planted-oidc-client-secret-7d2e91ab';

/** An app whose pino output lands in a string. */
function capturingApp(level = 'info') {
  const out = { text: '' };
  const logger = createLogger({ write: (s: string) => void (out.text += s) }, level);
  const app = createApp({ config: () => defaultConfig(), logger });
  const lines = () =>
    out.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { app, out, lines };
}

const leakyValues = {
  ...PRODUCTION_VALUES,
  glooMeshUi: {
    auth: {
      enabled: true,
      backend: 'oidc',
      oidc: {
        issuerUrl: 'https://idp.example.com',
        clientId: 'ui',
        appUrl: 'https://ui.example.com',
        clientSecret: PLANTED,
      },
    },
  },
};

function expectNoSecret(text: string) {
  expect(text).not.toContain(PLANTED);
  expect(text).not.toContain(Buffer.from(PLANTED).toString('base64').slice(0, 24));
}

describe('logs', () => {
  it('when a review is decided, then exactly one JSON line says who asked what, the decision, the policies and the time', async () => {
    const { app, lines } = capturingApp();
    await request(app)
      .post('/validate')
      .send(
        releaseReview({ values: leakyValues }, { uid: 'uid-1', username: 'bob@example.com', dryRun: true }),
      );
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'admission decision',
      uid: 'uid-1',
      kind: 'Secret',
      namespace: 'gloo-mesh',
      name: 'sh.helm.release.v1.gloo-mesh-enterprise.v1',
      operation: 'CREATE',
      user: 'bob@example.com',
      dryRun: true,
      decision: 'deny',
      subject: 'release gloo-mesh/gloo-mesh-enterprise (chart gloo-mesh-enterprise 2.0.9 revision 1)',
      policies: ['no-inline-oidc-secret'],
      denied: 1,
    });
    expect(typeof line!.durationMs).toBe('number');
    expect(typeof line!.time).toBe('string');
  });

  it('when a release is allowed with nothing to report, then it is still one info line; at warn, decisions are not logged', async () => {
    const info = capturingApp();
    await request(info.app)
      .post('/validate')
      .send(releaseReview({ values: PRODUCTION_VALUES }, { uid: 'ok-1' }));
    expect(info.lines()).toMatchObject([
      { level: 'info', msg: 'admission decision', uid: 'ok-1', decision: 'allow' },
    ]);
    const warn = capturingApp('warn');
    await request(warn.app)
      .post('/validate')
      .send(releaseReview({ values: PRODUCTION_VALUES }, { uid: 'ok-2' }));
    expect(warn.lines()).toEqual([]);
  });

  it('when a release carries an OIDC client secret in its values, then no log line holds it, in clear or in base64', async () => {
    const { app, out } = capturingApp();
    const res = await request(app)
      .post('/validate')
      .send(releaseReview({ values: leakyValues }));
    expect(res.body.response.allowed).toBe(false);
    expectNoSecret(out.text);
    expectNoSecret(res.text);
  });

  it('when the secret is in a body that is not valid JSON, then neither the 400 nor the logs quote it', async () => {
    const { app, out } = capturingApp();
    const body = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"clientSecret":"${PLANTED}"`;
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(out.text).toContain('unusable request body');
    expectNoSecret(out.text);
    expectNoSecret(res.text);
  });

  it('when the secret is in a malformed review or an ordinary Secret, then no log line holds it', async () => {
    const { app, out } = capturingApp();
    const opaque = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'oidc', namespace: 'gloo-mesh' },
      data: { clientSecret: Buffer.from(PLANTED).toString('base64') },
      stringData: { clientSecret: PLANTED },
    };
    await request(app).post('/validate').send(objectReview(opaque));
    const malformed = objectReview(opaque);
    (malformed as { apiVersion: string }).apiVersion = PLANTED;
    expect((await request(app).post('/validate').send(malformed)).status).toBe(400);
    await request(app)
      .post('/validate')
      .send(objectReview(rawReleaseSecret(Buffer.from(`{"config":"${PLANTED}"`).toString('base64'))));
    // The ordinary Secret's allowed review is a debug line, the other two are problems.
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(2);
    expectNoSecret(out.text);
    const debug = capturingApp('debug');
    await request(debug.app).post('/validate').send(objectReview(opaque));
    expect(debug.lines()).toMatchObject([{ level: 'debug', msg: 'admission decision', kind: 'Secret' }]);
    expectNoSecret(debug.out.text);
  });
});

const deployment = (namespace: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace },
  spec: { template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
});
const namespace = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

describe('which decisions are logged at info', () => {
  it('when an ordinary Deployment or Namespace is allowed with nothing found, then info logs nothing and debug logs one line each', async () => {
    const info = capturingApp();
    const debug = capturingApp('debug');
    for (const { app } of [info, debug]) {
      const d = await request(app)
        .post('/validate')
        .send(objectReview(deployment('shop'), { uid: 'd-1' }));
      const n = await request(app)
        .post('/validate')
        .send(objectReview(namespace('shop'), { uid: 'n-1' }));
      expect([d.body.response.allowed, n.body.response.allowed]).toEqual([true, true]);
    }
    expect(info.lines()).toEqual([]);
    expect(debug.lines()).toMatchObject([
      { level: 'debug', msg: 'admission decision', uid: 'd-1', kind: 'Deployment', decision: 'allow' },
      { level: 'debug', msg: 'admission decision', uid: 'n-1', kind: 'Namespace', decision: 'allow' },
    ]);
  });

  it('when a Deployment or a Namespace is refused, then the denial is one info line naming the policy', async () => {
    const { app, lines } = capturingApp();
    const injected = { 'sidecar.istio.io/inject': 'true' };
    const d = await request(app)
      .post('/validate')
      .send(objectReview(deployment('gloo-mesh', injected), { uid: 'd-2' }));
    const n = await request(app)
      .post('/validate')
      .send(objectReview(namespace('gloo-mesh', { 'istio-injection': 'enabled' }), { uid: 'n-2' }));
    expect([d.body.response.allowed, n.body.response.allowed]).toEqual([false, false]);
    expect(lines()).toMatchObject([
      { level: 'info', uid: 'd-2', decision: 'deny', policies: ['no-injection-in-gloo-mesh'], denied: 1 },
      { level: 'info', uid: 'n-2', decision: 'deny', policies: ['no-injection-in-gloo-mesh'], denied: 1 },
    ]);
  });

  it('when a release record is updated (allowed without judging), then it is still an info line', async () => {
    const { app, lines } = capturingApp();
    const res = await request(app)
      .post('/validate')
      .send(releaseReview({ values: PRODUCTION_VALUES }, { uid: 'r-1', operation: 'UPDATE' }));
    expect(res.body.response.allowed).toBe(true);
    expect(lines()).toMatchObject([{ level: 'info', uid: 'r-1', decision: 'allow', kind: 'Secret' }]);
  });
});
