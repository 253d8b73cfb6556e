/**
 * The offload worker: prepares large AdmissionReview bodies off the main thread (the JSON parsed, a
 * release decoded) and sends back plain data. The engine itself runs on the main thread, where the
 * cluster view lives.
 */
import { parentPort } from 'node:worker_threads';
import type { OffloadJob } from './offload.js';
import { prepareBody } from './prepare.js';

parentPort?.on('message', (job: OffloadJob) => {
  parentPort?.postMessage({ id: job.id, outcome: prepareBody(Buffer.from(job.body), job.config) });
});
parentPort?.postMessage('ready');
