/**
 * Large request bodies (a Helm release Secret is up to 1 MiB, 1.3 MB on the wire) are read off the
 * event loop, in one worker thread, so small reviews never wait behind a release being decoded; and
 * only a few are held at once, so memory stays bounded whatever the concurrency: the rest wait
 * unread, held back by TCP.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/types.js';
import { attachDeep, type Detached } from './offload-clone.js';
import { prepareBody, type BodyOutcome } from './prepare.js';

/** Bodies larger than this go to the worker; Namespaces and Deployments stay far below it. */
export const OFFLOAD_MIN_BYTES = 64 * 1024;
/** Large bodies read or queued at once; a release decodes in tens of milliseconds. */
export const MAX_LARGE_BODIES = 4;

/**
 * The worker's heap. A hostile body that would need more makes the worker, not the server, run out
 * of memory; the review gets an error answer and the next one starts a new worker.
 */
const WORKER_HEAP_MB = 256;
/**
 * The worker's young generation (two semi-spaces of 8 MiB, and its large objects). V8's default lets
 * it grow to 64 MiB of semi-spaces while large releases come in, most of it the garbage of a decode
 * that is already answered: with 16 large releases at once the server's resident set peaked at
 * 316-321 MiB with the default and 279 with this, for the same CPU per release. At half this size a
 * 1 MiB release's decode no longer fits, what it builds is promoted and collected again, and a
 * release costs 30-60 % more CPU.
 */
const WORKER_YOUNG_MB = 24;
/** Far above a release's decode (tens of ms), below the API server's longest webhook timeout (30 s). */
const JOB_TIMEOUT_MS = 15_000;

/** A job for the worker: the body's bytes (moved, not copied) and the config in force. */
export interface OffloadJob {
  id: number;
  body: Uint8Array;
  config: Config;
}

/** The worker stopped (it crashed, or ran out of memory) while holding a job. */
export class OffloadError extends Error {
  override name = 'OffloadError';
}

interface Pending {
  resolve: (o: BodyOutcome) => void;
  reject: (e: Error) => void;
}

/**
 * The compiled worker next to this module. Run from TypeScript sources (tsx, vitest) there is none,
 * and bodies are prepared on the event loop by the same function.
 */
export function workerFile(): URL | undefined {
  return import.meta.url.endsWith('.js') ? new URL('./offload-worker.js', import.meta.url) : undefined;
}

/** Admits at most `limit` holders at once; the others wait in order. */
class Gate {
  private held = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.held += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.held -= 1;
          this.waiting.shift()?.();
        });
      };
      if (this.held < this.limit) grant();
      else this.waiting.push(grant);
    });
  }
}

/** One worker and the jobs it holds; a stopped worker fails only its own jobs. */
class WorkerSlot {
  readonly pending = new Map<number, Pending & { timer: NodeJS.Timeout }>();
  stopped = false;
  /** The worker's warm-up, when it made one. */
  warmedUp: WarmedUp['warmedUp'] | undefined;

  constructor(
    readonly worker: Worker,
    private readonly onStop: (slot: WorkerSlot) => void,
  ) {
    worker.on('message', (m: WorkerMessage) => {
      if (m === 'ready' || 'warmedUp' in m) return;
      const p = this.pending.get(m.id);
      // A job already failed (its worker was given up on) needs nothing read.
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(outcomeOf(m));
    });
    worker.on('error', (err: unknown) =>
      this.stop(`it failed (${err instanceof Error ? err.name : 'error'})`),
    );
    worker.on('exit', (code) => this.stop(`it exited with code ${code}`));
  }

  /** Fails every job held, once; the worker is terminated if it still runs. */
  stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(this);
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const p of jobs) {
      clearTimeout(p.timer);
      p.reject(new OffloadError(`the worker reading large reviews stopped: ${why}`));
    }
    void this.worker.terminate();
  }
}

/** An answer from the worker: the outcome as exact JSON text, or as a structured clone with its deep parts as text. */
type Answer = { id: number; json: string } | { id: number; outcome: BodyOutcome; detached?: Detached[] };

/** What the worker sends: an answer, its warm-up (then 'ready'), or 'ready' when it takes work. */
type WorkerMessage = Answer | WarmedUp | 'ready';

/** The outcome an answer carries. */
function outcomeOf(m: Answer): BodyOutcome {
  if ('json' in m) return JSON.parse(m.json) as BodyOutcome;
  attachDeep(m.outcome, m.detached ?? []);
  return m.outcome;
}

/** How the worker's warm-up went: how long it took, and whether every decode read the release. */
export interface WarmedUp {
  warmedUp: { ms: number; ok: boolean };
}

/** How an Offload's worker runs. */
export interface OffloadOptions {
  /** A job still unanswered after this long means a stuck worker: it is replaced. */
  jobTimeoutMs?: number;
  /** Whether each worker decodes a made-up release a few times (warmup.ts) before it takes work. */
  warmUp?: boolean;
}

/** One worker thread, started on first use and again after it stops, with a gate for large bodies. */
export class Offload {
  private current: Promise<WorkerSlot> | undefined;
  private nextId = 1;
  private closed = false;
  private readonly gate: Gate;
  /** Workers started so far: one, plus one per worker that stopped. */
  workersStarted = 0;
  private readonly jobTimeoutMs: number;
  private readonly warmUp: boolean;

  constructor(
    maxLargeBodies = MAX_LARGE_BODIES,
    private readonly file: URL | undefined = workerFile(),
    opts: OffloadOptions = {},
  ) {
    this.gate = new Gate(maxLargeBodies);
    this.jobTimeoutMs = opts.jobTimeoutMs ?? JOB_TIMEOUT_MS;
    this.warmUp = opts.warmUp ?? false;
  }

  /** Whether large bodies are prepared in a worker thread (false when run from TypeScript sources). */
  get usesWorker(): boolean {
    return this.file !== undefined;
  }

  /** Waits for a turn to read a large body; call the function returned once its answer is sent. */
  admit(): Promise<() => void> {
    return this.gate.acquire();
  }

  /** Reads and prepares a review body in the worker. */
  async prepare(body: Buffer, config: Config): Promise<BodyOutcome> {
    if (this.file === undefined) return prepareBody(body, config);
    const slot = await this.ready(this.file);
    const id = this.nextId++;
    // Move the bytes when the Buffer owns its memory; a pooled slice is copied.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = own ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => slot.stop(`a review took longer than ${this.jobTimeoutMs} ms`),
        this.jobTimeoutMs,
      );
      slot.pending.set(id, { resolve, reject, timer });
      const job: OffloadJob = { id, body: bytes, config };
      slot.worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
    });
  }

  /**
   * Starts the worker now instead of on the first large body, so that body meets a thread already
   * running (and, with warm-up, code already optimised). A worker that fails to start is started
   * again on first use, as without this.
   */
  async startNow(): Promise<WarmedUp['warmedUp'] | undefined> {
    if (this.file === undefined || this.closed) return undefined;
    try {
      return (await this.ready(this.file)).warmedUp;
    } catch {
      return undefined;
    }
  }

  /**
   * The most heap the running worker may use, old and young generations together, in MiB, as V8
   * reports it; undefined without a worker running. Part of what the pod's memory limit must hold.
   */
  async workerHeapLimitMiB(): Promise<number | undefined> {
    if (this.current === undefined) return undefined;
    const slot = await this.current.catch(() => undefined);
    if (slot === undefined || slot.stopped) return undefined;
    const stats = await slot.worker.getHeapStatistics().catch(() => undefined);
    return stats && Math.round(stats.heap_size_limit / 1024 / 1024);
  }

  /** Stops the worker; jobs still held fail. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    if (current) (await current).stop('the server is shutting down');
  }

  private ready(file: URL): Promise<WorkerSlot> {
    if (this.closed) return Promise.reject(new OffloadError('the server is shutting down'));
    this.current ??= this.start(file);
    return this.current;
  }

  private start(file: URL): Promise<WorkerSlot> {
    const worker = new Worker(file, {
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
      workerData: { warmUp: this.warmUp },
    });
    worker.unref();
    this.workersStarted += 1;
    const slot = new WorkerSlot(worker, () => {
      // Only the worker in use is forgotten; a late 'exit' of an older one changes nothing.
      if (this.current === started) this.current = undefined;
    });
    const started: Promise<WorkerSlot> = new Promise((resolve, reject) => {
      const first = (m: WorkerMessage): void => {
        if (typeof m === 'object' && 'warmedUp' in m) {
          slot.warmedUp = m.warmedUp;
          return;
        }
        worker.off('message', first);
        resolve(slot);
      };
      worker.on('message', first);
      worker.once('error', reject);
    });
    return started;
  }
}
