import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { releaseReview } from '../fixtures/admission/reviews.js';

const app = createApp({ config: () => defaultConfig() });

/** Every HTTP error is a one-line metav1.Status and never shows code internals. */
function expectStatus(res: request.Response, code: number, message: RegExp) {
  expect(res.status).toBe(code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  expect(res.body.message).toMatch(message);
  expect(res.body.message).not.toMatch(/\n/);
  expect(res.text).not.toMatch(/ at .*\.(ts|js):\d+|node_modules|SyntaxError|TypeError/);
}

function withRequest(edit: (req: Record<string, unknown>) => void): Record<string, unknown> {
  const body = releaseReview();
  edit(body.request as Record<string, unknown>);
  return body;
}

const post = (body: string | object, type = 'application/json') =>
  request(app).post('/validate').set('Content-Type', type).send(body);

describe('POST /validate: malformed reviews get HTTP 400 with a one-line reason', () => {
  it.each([
    ['not JSON', '{"apiVersion": "admission.k8s.io/v1", ', /not valid JSON/],
    ['a JSON string', '"AdmissionReview"', /not valid JSON/],
    ['a JSON array', '[1, 2, 3]', /not a JSON object/],
    ['an empty object', '{}', /apiVersion must be admission\.k8s\.io\/v1/],
  ])('when the body is %s, then 400', async (_what, body, message) => {
    expectStatus(await post(body), 400, message);
  });

  it('when the apiVersion is admission.k8s.io/v1beta1, then 400 says which version is served', async () => {
    const body = { ...releaseReview(), apiVersion: 'admission.k8s.io/v1beta1' };
    expectStatus(await post(body), 400, /admissionReviewVersions: \["v1"\]/);
  });

  it('when the kind is not AdmissionReview, then 400', async () => {
    expectStatus(
      await post({ ...releaseReview(), kind: 'ConversionReview' }),
      400,
      /kind must be AdmissionReview/,
    );
  });

  it('when there is no request, then 400', async () => {
    expectStatus(
      await post({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      400,
      /has no request/,
    );
  });

  it.each([
    ['no uid', (r: Record<string, unknown>) => delete r.uid, /request\.uid is missing/],
    ['a uid that is a number', (r: Record<string, unknown>) => (r.uid = 42), /request\.uid is missing/],
    [
      'a uid of 10 kB',
      (r: Record<string, unknown>) => (r.uid = 'u'.repeat(10_000)),
      /request\.uid is longer than 128/,
    ],
    ['no operation', (r: Record<string, unknown>) => delete r.operation, /request\.operation must be one of/],
    [
      'operation PATCH',
      (r: Record<string, unknown>) => (r.operation = 'PATCH'),
      /request\.operation must be one of/,
    ],
    ['no kind', (r: Record<string, unknown>) => delete r.kind, /request\.kind\.kind is missing/],
  ])('when the request has %s, then 400', async (_what, edit, message) => {
    expectStatus(await post(withRequest(edit)), 400, message);
  });

  it('when the Content-Type is not JSON, then 400 before the body is read', async () => {
    expectStatus(
      await post(JSON.stringify(releaseReview()), 'text/plain'),
      400,
      /Content-Type must be application\/json/,
    );
  });

  it('when there is no body at all, then 400', async () => {
    expectStatus(await request(app).post('/validate'), 400, /no body/);
  });

  it('when the body is gzip-encoded, then 415: the server never inflates a request body', async () => {
    const res = await request(app)
      .post('/validate')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]));
    expectStatus(res, 415, /Content-Encoding is not supported/);
  });

  it('when the body is larger than 6 MB, then 413', async () => {
    const big = JSON.stringify({ ...releaseReview(), pad: 'x'.repeat(6 * 1024 * 1024 + 1) });
    expectStatus(await post(big), 413, /larger than 6mb/);
  });

  it('when the JSON is nested 100 000 deep, then 400 and the server lives on', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const res = await post(deep);
    expectStatus(res, 400, /not valid JSON|not a JSON object/);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('when any JSON value is posted, then the answer is 200 or 400, never a crash or a 5xx', async () => {
    const requestLike = fc.record(
      {
        uid: fc.oneof(fc.uuid(), fc.string(), fc.integer(), fc.constant(null)),
        kind: fc.oneof(fc.constant({ group: '', version: 'v1', kind: 'Secret' }), fc.anything()),
        operation: fc.oneof(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), fc.anything()),
        object: fc.anything(),
        subResource: fc.oneof(fc.string(), fc.anything()),
        dryRun: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.jsonValue(),
      requestLike.map((request) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request })),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await post(JSON.stringify(b));
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) expect(typeof res.body.response.allowed).toBe('boolean');
      }),
      { numRuns: 150 },
    );
  });
});

describe('other routes and methods', () => {
  it.each([
    ['GET', '/validate', 'POST'],
    ['PUT', '/healthz', 'GET'],
    ['POST', '/metrics', 'GET'],
    ['DELETE', '/readyz', 'GET'],
  ] as const)('when %s %s, then 405 with Allow: %s', async (method, path, allow) => {
    const res = await request(app)[method.toLowerCase() as 'get' | 'put' | 'post' | 'delete'](path);
    expectStatus(res, 405, /method not allowed/);
    expect(res.headers.allow).toBe(allow);
  });

  it('when the API server appends ?timeout=10s, then the review is answered', async () => {
    const res = await request(app).post('/validate?timeout=10s').send(releaseReview());
    expect(res.status).toBe(200);
    expect(res.body.response.allowed).toBe(false);
  });

  it('when an unknown path is asked, then 404', async () => {
    expectStatus(await request(app).get('/mutate'), 404, /not found/);
  });

  it('when HEAD /healthz is asked, then 200', async () => {
    expect((await request(app).head('/healthz')).status).toBe(200);
  });

  it('when the answer is sent, then it carries no X-Powered-By header', async () => {
    expect((await request(app).get('/healthz')).headers['x-powered-by']).toBeUndefined();
  });
});
