// Test-only preload for the serve process (node --expose-gc --import this): SIGUSR2 runs a full
// garbage collection, so a memory reading after load shows what is still referenced, not what the
// collector has not got round to yet. The product never sees this file.
import process from 'node:process';

// Each collection is announced on stdout, so the test waits for it instead of for a time.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  process.stdout.write('{"msg":"test: full collection done"}\n');
});
