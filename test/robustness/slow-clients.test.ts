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
  sleep,
  startServe,
  stopAllProcesses,
  validate,
  type ServeProcess,
} from './support.js';

const SLOW_HEADERS = 100;
const NO_HANDSHAKE = 100;
const REVIEWS = 300;

/** A socket's life: when it closed, measured from `since`. */
function closedAfter(socket: Socket, since: number): Promise<number> {
  return new Promise((resolve) => socket.once('close', () => resolve(performance.now() - since)));
}

/** Opens TLS, then sends the start of a request one byte a second, never finishing the headers. */
function slowHeaders(s: ServeProcess, since: number): Promise<number> {
  const socket = tlsConnect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca });
  socket.on('error', () => undefined);
  const text = 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Slow: ';
  let i = 0;
  socket.once('secureConnect', () => {
    socket.write(text);
    const drip = setInterval(() => {
      if (socket.destroyed) clearInterval(drip);
      else socket.write(String(i++ % 10));
    }, 1000);
  });
  return closedAfter(socket, since);
}

/** Opens TCP and says nothing: the TLS handshake never starts. */
function silent(s: ServeProcess, since: number): Promise<number> {
  const socket = tcpConnect({ host: '127.0.0.1', port: s.port });
  socket.on('error', () => undefined);
  return closedAfter(socket, since);
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

afterAll(stopAllProcesses);

describe('slow clients', { timeout: 60_000 }, () => {
  it('when hundreds of connections stall in the handshake or the headers, then reviews are still answered, and the stalled ones are cut off', async () => {
    const s = await startServe();
    const since = performance.now();
    const stalled = [
      ...Array.from({ length: SLOW_HEADERS }, () => slowHeaders(s, since)),
      ...Array.from({ length: NO_HANDSHAKE }, () => silent(s, since)),
    ];
    await sleep(1000);

    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: REVIEWS }, async (_, n) => {
        const a = await validate({ ...s, agent }, objectReview(namespaceObject(`team-${n}`)), 5000);
        expect(reviewResponse(a).allowed).toBe(true);
        times.push(a.ms);
      }),
    );
    agent.destroy();
    const p99 = percentile(times, 99);
    expect(p99).toBeLessThan(1000);

    const closed = await Promise.all(stalled);
    const handshakeCut = closed.slice(SLOW_HEADERS);
    const headersCut = closed.slice(0, SLOW_HEADERS);
    // handshakeTimeout 10 s; headersTimeout 20 s, checked every 5 s.
    expect(Math.max(...handshakeCut)).toBeLessThan(15_000);
    expect(Math.min(...headersCut)).toBeGreaterThan(15_000);
    expect(Math.max(...headersCut)).toBeLessThan(35_000);
    figure('slow clients', {
      stalled: stalled.length,
      reviews: REVIEWS,
      reviewP99Ms: Math.round(p99),
      handshakeCutAtMs: Math.round(Math.max(...handshakeCut)),
      headersCutAtMs: [Math.round(Math.min(...headersCut)), Math.round(Math.max(...headersCut))],
    });
  });
});
