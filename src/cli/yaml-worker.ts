/**
 * Reads one deeply nested values file on a thread with a large stack (see readDeepValues): the yaml
 * parser recurses once per level, and Helm accepts values 10,000 levels deep. The documents go back
 * as JSON text, which crosses threads without recursion, and a flag wakes the waiting CLI.
 */
import { workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { toJsonText } from '../engine/values.js';
import { InputFileError, parseYamlText } from './inputs.js';

const job = workerData as { text: string; name: string; port: MessagePort; done: Int32Array };
try {
  job.port.postMessage({ json: toJsonText(parseYamlText(job.text, job.name, true)) });
} catch (err: unknown) {
  // Only our own one-line errors are passed on; anything else may quote the file, which may hold a secret.
  // As a message: postMessage drops the class, so readDeepValues throws a new InputFileError with it.
  const error =
    err instanceof InputFileError ? err.message : `${job.name}: not usable YAML: it cannot be converted`;
  job.port.postMessage({ error });
} finally {
  Atomics.store(job.done, 0, 1);
  Atomics.notify(job.done, 0);
}
