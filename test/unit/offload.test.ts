import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { Offload, OffloadError } from '../../src/server/offload.js';
import { warmupBody } from '../../src/server/warmup.js';
import { prepareBody } from '../../src/server/prepare.js';
import { helmRelease, objectReview, rawReleaseSecret } from '../fixtures/admission/reviews.js';
import { gzipSync } from 'node:zlib';

const WORKER = new URL('../fixtures/offload/echo-worker.mjs', import.meta.url);
/** The real worker, run from the sources. */
const SOURCE_WORKER = new URL('../fixtures/offload/source-worker.mjs', import.meta.url);
const config = defaultConfig();

/** One turn of the event loop: every promise already settled has run its callbacks. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the offload worker pool', () => {
  it('when a body is prepared in the worker, then its bytes are moved there, not copied, and the answer comes back', async () => {
    const pool = new Offload(4, WORKER);
    const body = Buffer.allocUnsafeSlow(100_000).fill('a');
    await expect(pool.prepare(body, config)).resolves.toEqual({ type: 'malformed', reason: '100000 bytes' });
    // The ArrayBuffer was transferred: the main thread no longer holds the body.
    expect(body.buffer.byteLength).toBe(0);
    await pool.close();
  });

  it('when the body is a slice of a pooled buffer, then it is copied and the pool is left intact', async () => {
    const pool = new Offload(4, WORKER);
    const pooled = Buffer.from('pooled body');
    await expect(pool.prepare(pooled, config)).resolves.toEqual({ type: 'malformed', reason: '11 bytes' });
    expect(pooled.toString()).toBe('pooled body');
    await pool.close();
  });

  it('when the worker dies holding a job, then that job fails with OffloadError and the next one gets a new worker', async () => {
    const pool = new Offload(4, WORKER);
    await expect(pool.prepare(Buffer.from('crash now'), config)).rejects.toThrow(OffloadError);
    await expect(pool.prepare(Buffer.from('crash now'), config)).rejects.toThrow(
      /the worker reading large reviews stopped/,
    );
    await expect(pool.prepare(Buffer.from('fine'), config)).resolves.toEqual({
      type: 'malformed',
      reason: '4 bytes',
    });
    await pool.close();
  });

  it('when the worker is stuck on a job, then after the job timeout that job and the ones behind it fail, and a new worker takes the next', async () => {
    const pool = new Offload(4, WORKER, { jobTimeoutMs: 300 });
    const stuck = pool.prepare(Buffer.from('hang forever'), config);
    const behind = pool.prepare(Buffer.from('queued behind it'), config);
    await expect(stuck).rejects.toThrow(/took longer than 300 ms/);
    await expect(behind).rejects.toThrow(OffloadError);
    await expect(pool.prepare(Buffer.from('after'), config)).resolves.toEqual({
      type: 'malformed',
      reason: '5 bytes',
    });
    await pool.close();
  });

  it('when a crashed worker exits after its replacement started, then the replacement and its jobs are untouched', async () => {
    const pool = new Offload(4, WORKER);
    const crashed = pool.prepare(Buffer.from('crash now'), config);
    await expect(crashed).rejects.toThrow(OffloadError);
    // Started at once, before the old worker's 'exit' has arrived.
    const next = Array.from({ length: 20 }, (_, i) => pool.prepare(Buffer.from('x'.repeat(i + 1)), config));
    const answers = await Promise.all(next);
    expect(answers.map((a) => (a as { reason: string }).reason)).toEqual(
      Array.from({ length: 20 }, (_, i) => `${i + 1} bytes`),
    );
    // The replacement is still the worker in use: no third one is started (none is orphaned).
    await new Promise((r) => setTimeout(r, 100));
    await pool.prepare(Buffer.from('later'), config);
    expect(pool.workersStarted).toBe(2);
    await pool.close();
  });

  it('when more large bodies arrive than the gate admits, then the extra ones wait for a turn, in order', async () => {
    const pool = new Offload(2, WORKER);
    const first = await pool.admit();
    const second = await pool.admit();
    const order: string[] = [];
    const third = pool.admit().then((done) => (order.push('third'), done));
    const fourth = pool.admit().then((done) => (order.push('fourth'), done));
    await turn();
    expect(order).toEqual([]);
    first();
    first(); // releasing twice frees one turn only
    await turn();
    expect(order).toEqual(['third']);
    (await third)();
    await turn();
    expect(order).toEqual(['third', 'fourth']);
    second();
    (await fourth)();
    await pool.close();
  });

  it('when closed, then no new work is taken', async () => {
    const pool = new Offload(4, WORKER);
    await pool.close();
    await expect(pool.prepare(Buffer.from('late'), config)).rejects.toThrow(/shutting down/);
  });

  it('when started before any body with warm-up, then one worker runs, reports its warm-up, and takes the first body', async () => {
    const pool = new Offload(4, SOURCE_WORKER, { warmUp: true });
    const warmed = await pool.startNow();
    expect(warmed).toMatchObject({ ok: true });
    expect(warmed?.ms).toBeGreaterThan(0);
    expect(pool.workersStarted).toBe(1);
    const outcome = await pool.prepare(warmupBody(), config);
    expect(outcome).toMatchObject({
      type: 'prepared',
      request: { name: 'sh.helm.release.v1.gloo-guard-warmup.v1' },
    });
    expect(pool.workersStarted).toBe(1);
    await pool.close();
  });

  it('when releases are prepared in the worker, then the event loop gets what preparing them here gives, -0 included', async () => {
    const pool = new Offload(4, SOURCE_WORKER);
    const notes = Object.fromEntries([...Array(2000).keys()].map((i) => [`n${i}`, `v${i}`]));
    const release = JSON.stringify(helmRelease({ values: { weight: 1, notes } }));
    // JSON text carries the first; the second's -0 would come back as 0 that way, so it goes as a clone.
    for (const [text, weight] of [
      [release, 1],
      [release.replace('"weight":1', '"weight":-0'), -0],
    ] as const) {
      const payload = gzipSync(Buffer.from(text)).toString('base64');
      const body = Buffer.from(
        JSON.stringify(objectReview(rawReleaseSecret(payload, 'gloo-mesh-enterprise'))),
      );
      const here = prepareBody(body, defaultConfig());
      const there = await pool.prepare(Buffer.from(body), defaultConfig());
      expect(there).toEqual(here);
      if (there.type !== 'prepared' || !('subjects' in there.prepared)) throw new Error('not prepared');
      const subject = there.prepared.subjects[0];
      if (subject?.kind !== 'release') throw new Error('not a release');
      expect(Object.is(subject.userValues.weight, weight)).toBe(true);
    }
    await pool.close();
  });

  it('when the worker runs, then its heap is capped at 256 MiB old and 24 MiB young, as V8 reports it', async () => {
    const pool = new Offload(4, SOURCE_WORKER);
    await expect(pool.workerHeapLimitMiB()).resolves.toBeUndefined();
    await pool.startNow();
    // Without the young cap V8 reports 352 MiB: its default young generation grows to 96 MiB.
    await expect(pool.workerHeapLimitMiB()).resolves.toBe(280);
    await pool.close();
    await expect(pool.workerHeapLimitMiB()).resolves.toBeUndefined();
  });

  it('when started before any body without warm-up, then the worker makes none', async () => {
    const pool = new Offload(4, SOURCE_WORKER);
    await expect(pool.startNow()).resolves.toBeUndefined();
    expect(pool.workersStarted).toBe(1);
    await pool.close();
    // Closed: nothing starts any more.
    await expect(pool.startNow()).resolves.toBeUndefined();
    expect(pool.workersStarted).toBe(1);
  });

  it('when run from TypeScript sources, then there is no compiled worker and bodies are prepared in-thread', async () => {
    const pool = new Offload();
    expect(pool.usesWorker).toBe(false);
    await expect(pool.prepare(Buffer.from('{"kind":"AdmissionReview"}'), config)).resolves.toMatchObject({
      type: 'malformed',
    });
  });
});
