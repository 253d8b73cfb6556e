import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LIST = fileURLToPath(new URL('../fixtures/offload/list-modules.mjs', import.meta.url));

function modulesOf(entry: string): string[] {
  const file = fileURLToPath(new URL(`../../src/server/${entry}`, import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', LIST, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`listing the modules of ${entry} failed:\n${r.stderr}`);
  return r.stdout.split('\n');
}

describe('the offload worker', () => {
  it('when it starts, then it loads the decoder and the subjects but not the policies, the rules or CEL', () => {
    const worker = modulesOf('offload-worker.ts');
    expect(worker.some((u) => u.includes('/src/helm/release-json.ts'))).toBe(true);
    expect(worker.some((u) => u.includes('/src/engine/subjects.ts'))).toBe(true);
    for (const heavy of [
      '/src/policies/',
      '/src/engine/evaluate.ts',
      '/src/rules/catalog.ts',
      '@bufbuild/cel',
    ])
      expect(
        worker.filter((u) => u.includes(heavy)),
        heavy,
      ).toEqual([]);
    // The check can see them: the event loop's side loads them all.
    const app = modulesOf('app.ts');
    for (const heavy of ['/src/policies/', '/src/engine/evaluate.ts', '@bufbuild/cel'])
      expect(
        app.some((u) => u.includes(heavy)),
        heavy,
      ).toBe(true);
  });
});
