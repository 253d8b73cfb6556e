// The poll is driven by fake timers and the filesystem events by the real filesystem: each test waits
// for a change to be reported or for a number of polls to have run, never for a stretch of time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchFiles, type FileWatch } from '../../src/server/watch.js';

const dirs: string[] = [];
const watches: FileWatch[] = [];

afterEach(() => {
  vi.useRealTimers();
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

/** Runs `n` polls of a watch whose poll is every `pollMs` (fake timers). */
const polls = (n: number, pollMs = 50): void => void vi.advanceTimersByTime(n * pollMs);

describe('watching files', () => {
  it('when no filesystem events arrive, then the poll still notices a change, once', () => {
    vi.useFakeTimers();
    const file = tempFile('a');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50, fsEvents: false }));
    writeFileSync(file, 'b');
    polls(1);
    expect(changes).toBe(1);
    polls(10);
    expect(changes).toBe(1);
  });

  it('when a file is rewritten with the same content, then nothing is reported', () => {
    vi.useFakeTimers();
    const file = tempFile('same');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50 }));
    writeFileSync(file, 'same');
    polls(10);
    expect(changes).toBe(0);
  });

  it('when a file disappears and comes back changed, then each state is reported', () => {
    vi.useFakeTimers();
    const file = tempFile('one');
    let changes = 0;
    watches.push(watchFiles([file], () => changes++, { pollMs: 50 }));
    rmSync(file);
    polls(2);
    expect(changes).toBe(1);
    writeFileSync(file, 'two');
    polls(2);
    expect(changes).toBe(2);
  });

  it('when the directory reports an event, then the change is seen without waiting for the poll', async () => {
    const file = tempFile('before');
    // A poll an hour away: only the filesystem event can report the change within the test.
    const changed = new Promise<void>((resolve) => {
      watches.push(watchFiles([file], resolve, { pollMs: 3_600_000, debounceMs: 1 }));
    });
    writeFileSync(file, 'after');
    await changed;
  });
});
