import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFiles, type FileWatch } from '../../src/server/watch.js';

const dirs: string[] = [];
const watches: FileWatch[] = [];

afterEach(() => {
  for (const w of watches.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-watch-'));
  dirs.push(dir);
  const file = join(dir, 'watched.txt');
  writeFileSync(file, text);
  return file;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watching files', () => {
  it('when no filesystem events arrive, then the poll still notices a change, once', async () => {
    const file = tempFile('a');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50, fsEvents: false }));
    writeFileSync(file, 'b');
    await wait(300);
    expect(changes).toBe(1);
  });

  it('when a file is rewritten with the same content, then nothing is reported', async () => {
    const file = tempFile('same');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50 }));
    writeFileSync(file, 'same');
    await wait(300);
    expect(changes).toBe(0);
  });

  it('when a file disappears and comes back changed, then each state is reported', async () => {
    const file = tempFile('one');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50 }));
    rmSync(file);
    await wait(300);
    writeFileSync(file, 'two');
    await wait(300);
    expect(changes).toBe(2);
  });
});
