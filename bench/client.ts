/**
 * A small HTTPS client for what autocannon does not do: single requests whose answer is checked, and a
 * paced probe that sends small reviews at a steady rate and times each from when it was due (so a
 * request that waits for a busy server is charged the wait: no coordinated omission).
 */
import { Agent, request } from 'node:https';
import { SampleReservoir } from './stats.js';

/** Where a server under test listens, and how to trust it. */
export interface Target {
  url: string;
  ca: string;
}

/** An answer: status and body. */
export interface Reply {
  status: number;
  body: string;
}

/** POSTs one body and reads the whole answer. */
export function post(target: Target, body: Buffer, agent?: Agent, timeoutMs = 30_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'POST',
        ca: target.ca,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The parts of an AdmissionReview response the benchmark reads. */
export interface ReviewResponse {
  uid?: string;
  allowed?: boolean;
  status?: { message?: string };
  warnings?: string[];
}

/** The `response` of an AdmissionReview answer, or undefined when the answer is not one. */
export function admissionResponse(reply: Reply): ReviewResponse | undefined {
  if (reply.status !== 200) return undefined;
  try {
    const parsed = JSON.parse(reply.body) as { kind?: string; response?: ReviewResponse };
    return parsed.kind === 'AdmissionReview' ? parsed.response : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until the server answers `body` with 200, polling; throws after `timeoutMs` or when `alive` says it died. */
export async function waitReady(
  target: Target,
  body: Buffer,
  alive: () => boolean,
  timeoutMs = 30_000,
): Promise<number> {
  const start = Date.now();
  for (let attempt = 0; Date.now() - start < timeoutMs; attempt++) {
    if (!alive()) throw new Error(`the server exited before it answered (attempt ${attempt})`);
    try {
      const r = await post(target, body, undefined, 2_000);
      if (r.status === 200) return Date.now() - start;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer within ${timeoutMs} ms`);
}

/** What the probe measured. */
export interface ProbeResult {
  sent: number;
  ok: number;
  failed: number;
  /** Latency from when each request was due, in ms (at most `maxSamples` kept). */
  samples: number[];
}

/**
 * Sends `bodies` in turn at `ratePerSec` for `durationMs`, over kept-alive connections (opened
 * beforehand, so no handshake is timed), and times each answer from when it was due.
 */
export async function probe(
  target: Target,
  bodies: readonly Buffer[],
  opts: { ratePerSec: number; durationMs: number; maxSamples?: number },
): Promise<ProbeResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const first = bodies[0];
  if (first === undefined) throw new Error('probe needs at least one body');
  // Open a few connections first, so the probe measures reviews, not TLS handshakes.
  await Promise.all(Array.from({ length: 4 }, () => post(target, first, agent)));
  const reservoir = new SampleReservoir(opts.maxSamples ?? 200_000);
  const intervalMs = 1000 / opts.ratePerSec;
  const total = Math.max(1, Math.floor(opts.durationMs / intervalMs));
  const start = performance.now();
  const result: ProbeResult = { sent: 0, ok: 0, failed: 0, samples: reservoir.samples };
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const body = bodies[i % bodies.length] ?? first;
    result.sent += 1;
    pending.push(
      post(target, body, agent).then(
        (r) => {
          if (r.status === 200) result.ok += 1;
          else result.failed += 1;
          reservoir.add(performance.now() - due);
        },
        () => {
          result.failed += 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return result;
}
