/** Worker of the raw-worker prototype: decodes release Secrets off the main thread (bench code only). */
import { parentPort } from 'node:worker_threads';
import { decodeReleaseSecretData } from '../../src/helm/release.js';

parentPort?.on('message', (m: { id: number; data: string; max: number }) => {
  try {
    parentPort?.postMessage({ id: m.id, release: decodeReleaseSecretData(m.data, m.max) });
  } catch (err: unknown) {
    parentPort?.postMessage({ id: m.id, error: err instanceof Error ? err.message : 'unreadable' });
  }
});
