// The reviews in flight, as createApp counts them for the shutdown (serve logs the count at SIGTERM
// and answers with Connection: close from then on): every way a review ends (answered, refused,
// malformed, cut off mid-body, decoded in the worker) takes it out of the count exactly once.
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { InFlight } from '../../src/server/lifecycle.js';
import { Offload } from '../../src/server/offload.js';
import {
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { untilLocal as until } from '../robustness/support.js';

const inFlight = new InFlight();
const offload = new Offload();
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer(createApp({ config: () => defaultConfig(), inFlight, offload }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await offload.close();
});

interface Answer {
  status: number;
  connection: string | undefined;
}

/** One request on its own connection; resolves with the status and the Connection header. */
function send(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        // Keep-alive asked for: a Connection: close in the answer is then the server's own.
        headers: { 'content-type': 'application/json', connection: 'keep-alive', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const review = (o: unknown): string => JSON.stringify(o);

describe('reviews in flight', () => {
  it('when reviews end every way a review can end, then none is left counted', async () => {
    const large = releaseReview({
      values: { ...PRODUCTION_VALUES, blob: randomBytes(200 * 1024).toString('base64') },
    });
    const answers = await Promise.all([
      send('POST', '/validate', review(objectReview(namespaceObject('team-a')))),
      send('POST', '/validate', review(releaseReview({ values: { common: { insecure: true } } }))),
      send('POST', '/validate', review(large)),
      send('POST', '/validate', '{"not": "a review"}'),
      send('POST', '/validate', '{not json'),
      send('POST', '/validate', review(objectReview(namespaceObject('x'))), { 'content-type': 'text/plain' }),
      send('POST', '/validate', undefined, { 'content-length': String(64 * 1024 * 1024) }).catch(() => ({
        status: 0,
        connection: undefined,
      })),
      send('GET', '/healthz'),
      send('GET', '/metrics'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400, 400, 400, 413, 200, 200]);
    expect(inFlight.reviews).toBe(0);
  });

  it('when a client stops mid-body, then the review is counted while it waits and not after the connection is gone', async () => {
    const body = Buffer.from(review(objectReview(namespaceObject('team-b'))));
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/validate',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    req.on('error', () => undefined);
    req.write(body.subarray(0, 10));
    await until('the review counted', () => (inFlight.reviews === 1 ? true : undefined));
    req.destroy();
    await until('the review no longer counted', () => (inFlight.reviews === 0 ? true : undefined));
  });

  it('when the server starts closing while a review is mid-body, then its answer says Connection: close', async () => {
    const body = Buffer.from(review(objectReview(namespaceObject('team-d'))));
    const answered = new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/validate',
          agent: false,
          headers: {
            'content-type': 'application/json',
            connection: 'keep-alive',
            'content-length': String(body.length),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      void until('the review counted', () => (inFlight.reviews === 1 ? true : undefined)).then(() => {
        inFlight.closing = true;
        req.end(body.subarray(10));
      }, reject);
    });
    try {
      expect(await answered).toEqual({ status: 200, connection: 'close' });
    } finally {
      inFlight.closing = false;
    }
    expect(inFlight.reviews).toBe(0);
  });

  it('when the server is closing, then every answer says Connection: close', async () => {
    inFlight.closing = true;
    try {
      const [allowed, refused, health] = await Promise.all([
        send('POST', '/validate', review(objectReview(namespaceObject('team-c')))),
        send('POST', '/validate', '{not json'),
        send('GET', '/healthz'),
      ]);
      expect([allowed, refused, health]).toEqual([
        { status: 200, connection: 'close' },
        { status: 400, connection: 'close' },
        { status: 200, connection: 'close' },
      ]);
    } finally {
      inFlight.closing = false;
    }
    expect((await send('GET', '/healthz')).connection).not.toBe('close');
    expect(inFlight.reviews).toBe(0);
  });
});
