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

  it('when a review is allowed with nothing to report, then it is still one info line; at warn, decisions are not logged', async () => {
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
    expect(out.text.split('\n').filter(Boolean)).toHaveLength(3);
    expectNoSecret(out.text);
  });
});
