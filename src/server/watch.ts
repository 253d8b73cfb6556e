/**
 * Notices when files change on disk. Kubernetes updates a mounted Secret or ConfigMap by swapping a
 * `..data` symlink in the mount directory, which a watch on the file itself misses, so the directory
 * is watched, and a poll catches what fs.watch cannot see (network filesystems, some containers).
 */
import { createHash } from 'node:crypto';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** A running watch; close() stops it. */
export interface FileWatch {
  close(): void;
}

/** How often to poll, how long to let a burst of events settle, and whether to ask for events at all. */
export interface WatchOptions {
  pollMs: number;
  debounceMs?: number;
  /** false leaves only the poll, as on filesystems that deliver no events. */
  fsEvents?: boolean;
}

/** A digest of the files' contents (a missing file counts as its own state). */
export function contentSignature(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const f of files) {
    try {
      hash.update(readFileSync(f));
    } catch (err: unknown) {
      hash.update(`missing:${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}

function watchDir(dir: string, onEvent: () => void): FSWatcher | undefined {
  try {
    const w = watch(dir, { persistent: false }, onEvent);
    // A watch that fails later (directory removed) leaves the poll to do the work.
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined;
  }
}

/** Calls onChange once each time the contents of `files` change; the first state is the one read now. */
export function watchFiles(files: readonly string[], onChange: () => void, opts: WatchOptions): FileWatch {
  let last = contentSignature(files);
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const now = contentSignature(files);
    if (now === last) return;
    last = now;
    onChange();
  };
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(check, opts.debounceMs ?? 100);
    timer.unref();
  };
  const dirs = opts.fsEvents === false ? [] : [...new Set(files.map((f) => dirname(f)))];
  const watchers = dirs.flatMap((d) => watchDir(d, soon) ?? []);
  const poll = setInterval(check, opts.pollMs);
  poll.unref();
  return {
    close(): void {
      clearInterval(poll);
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
