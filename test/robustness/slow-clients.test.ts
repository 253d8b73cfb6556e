// Slow clients (slowloris): connections that never finish their TLS handshake or their headers must
// not stop the API server's reviews from being answered, and are cut off after the server's timeouts.
import { connect as tcpConnect, type Socket } from 'node:net';
import { Agent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { namespaceObject, objectReview } from '../fixtures/admission/reviews.js';
import {
  figure,
  reviewResponse,
  startServe,
  stopAllProcesses,
  validate,
  type ServeProcess,
} from './support.js';

const SLOW_HEADERS = 100;
const NO_HANDSHAKE = 100;
const REVIEWS = 300;

/** A stalled connection: `open` once it is established, `closed` (ms after `since`) when the server cuts it. */
interface Stall {
  open: Promise<unknown>;
  closed: Promise<number>;
  isClosed: () => boolean;
}

function stall(socket: Socket, established: string, since: number): Stall {
  socket.on('error', () => undefined);
  let done = false;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve(performance.now() - since);
    }),
  );
  return { open: new Promise((r) => socket.once(established, r)), closed, isClosed: () => done };
}

/** Opens TLS, then sends the start of a request one byte a second, never finishing the headers. */
function slowHeaders(s: ServeProcess, since: number): Stall {
  const socket = tlsConnect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca });
  const text = 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Slow: ';
  let i = 0;
  socket.once('secureConnect', () => {
    socket.write(text);
    const drip = setInterval(() => {
      if (socket.destroyed) clearInterval(drip);
      else socket.write(String(i++ % 10));
    }, 1000);
  });
  return stall(socket, 'secureConnect', since);
}

/** Opens TCP and says nothing: the TLS handshake never starts. */
function silent(s: ServeProcess, since: number): Stall {
  return stall(tcpConnect({ host: '127.0.0.1', port: s.port }), 'connect', since);
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

afterAll(stopAllProcesses);

// Every wait is for an event: the stalled connections established, every review answered, each stalled
// connection closed by the server. Times are reported as figures; the only one asserted is a lower
// bound (the headers timeout cannot fire early), which a loaded machine can only make longer.
describe('slow clients', { timeout: 600_000 }, () => {
  it('when hundreds of connections stall in the handshake or the headers, then reviews are answered while they stall, and the server cuts every one', async () => {
    const s = await startServe();
    const since = performance.now();
    const headers = Array.from({ length: SLOW_HEADERS }, () => slowHeaders(s, since));
    const handshakes = Array.from({ length: NO_HANDSHAKE }, () => silent(s, since));
    await Promise.all([...headers, ...handshakes].map((c) => c.open));

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const times: number[] = [];
    let openAtFirstAnswer: number | undefined;
    await Promise.all(
      Array.from({ length: REVIEWS }, async (_, n) => {
        const a = await validate({ ...s, agent }, objectReview(namespaceObject(`team-${n}`)));
        expect(reviewResponse(a).allowed).toBe(true);
        openAtFirstAnswer ??= headers.filter((c) => !c.isClosed()).length;
        times.push(a.ms);
      }),
    );
    agent.destroy();
    // Answered while every stalled request still held its connection: reviews do not queue behind them.
    expect(openAtFirstAnswer).toBe(SLOW_HEADERS);

    const handshakeCut = await Promise.all(handshakes.map((c) => c.closed));
    const headersCut = await Promise.all(headers.map((c) => c.closed));
    // headersTimeout 20 s, checked every 5 s: never cut before 15 s.
    expect(Math.min(...headersCut)).toBeGreaterThan(15_000);
    figure('slow clients', {
      stalled: headers.length + handshakes.length,
      reviews: REVIEWS,
      reviewP99Ms: Math.round(percentile(times, 99)),
      handshakeCutAtMs: Math.round(Math.max(...handshakeCut)),
      headersCutAtMs: [Math.round(Math.min(...headersCut)), Math.round(Math.max(...headersCut))],
    });
  });
});
