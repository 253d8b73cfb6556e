/**
 * The offload worker: prepares large AdmissionReview bodies off the main thread (the JSON parsed, a
 * release decoded) and sends back plain data. The engine itself runs on the main thread, where the
 * cluster view lives.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { OffloadJob, WarmedUp } from './offload.js';
import { detachDeep, exactJsonText } from './offload-clone.js';
import { prepareBody } from './prepare.js';
import { warmUp } from './warmup.js';

/** The worker's niceness: when both want the CPU, the event loop gets about nine tenths of it. */
const WORKER_NICE = 10;

/**
 * Lowers this thread's scheduling priority (Linux: `/proc/thread-self` names its task id, and
 * setpriority on a task id affects that thread only), so that on a busy core a release being decoded
 * yields to small reviews on the event loop instead of sharing the core evenly. Raising one's own
 * niceness needs no privilege; where it is not possible the worker simply runs at normal priority.
 */
function yieldToEventLoop(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // Not Linux, or no /proc: normal priority.
  }
}

yieldToEventLoop();
parentPort?.on('message', (job: OffloadJob) => {
  // A view of the moved bytes, not a copy of them (Buffer.from of a Uint8Array copies).
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  const outcome = prepareBody(body, job.config);
  // As JSON text when that gives it back exactly: the event loop parses text in about half the time
  // it takes to rebuild a structured clone of a large release's values.
  const json = exactJsonText(outcome);
  if (json !== undefined) {
    parentPort?.postMessage({ id: job.id, json });
    return;
  }
  // Values deeper than structured clone goes travel as JSON text (Helm reads 10,000 levels).
  const detached = detachDeep(outcome);
  parentPort?.postMessage({ id: job.id, outcome, detached });
});
// Before 'ready': a large body that arrives meanwhile waits for optimised code rather than running cold.
if ((workerData as { warmUp?: boolean } | null)?.warmUp === true) {
  const start = performance.now();
  let ok: boolean;
  try {
    ok = warmUp();
  } catch {
    // A warm-up that fails must not take the worker down with it: it then takes work cold.
    ok = false;
  }
  const warmed: WarmedUp = { warmedUp: { ms: Math.round(performance.now() - start), ok } };
  parentPort?.postMessage(warmed);
}
parentPort?.postMessage('ready');
