/**
 * Every process the benchmark starts goes through here, so every one of them is stopped at the end,
 * on success, on failure, on Ctrl-C. Servers are pinned to core 1; the driver pins itself to core 0.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';

/** The core the servers under test run on, and the one the load generator uses. */
export const SERVER_CORE = 1;
export const DRIVER_CORE = 0;

const running = new Set<ChildProcess>();

/** Pins this process (all its threads) to the driver core; returns false where taskset is missing. */
export function pinSelf(core = DRIVER_CORE): boolean {
  const r = spawnSync('taskset', ['-a', '-pc', String(core), String(process.pid)], { stdio: 'ignore' });
  return r.status === 0;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A process started by the benchmark. */
export interface Started {
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<string>;
}

/** Starts `command` pinned to the server core, with stdout and stderr appended to `logFile`. */
export function startPinned(
  command: string,
  args: string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): Started {
  const fd = openSync(logFile, 'a');
  const child = spawn('taskset', ['-c', String(SERVER_CORE), command, ...args], {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(signal ?? String(code));
    });
  });
  return { child, pid: child.pid, logFile, exited };
}

/** A timer that does not keep the driver alive once everything else is done. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Stops a process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(p: Started, graceMs = 10_000): Promise<void> {
  if (!running.has(p.child)) return;
  p.child.kill('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Stops everything still running (each by its own pid). */
export async function stopAll(): Promise<void> {
  const all = [...running];
  await Promise.all(
    all.map(async (child) => {
      child.kill('SIGTERM');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) child.kill('SIGKILL');
    }),
  );
}

/** Kills what is left when the driver exits however it exits (synchronous: exit handlers cannot wait). */
export function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Installs handlers so an interrupted or crashed run leaves no process behind. */
export function installCleanup(): void {
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping the servers\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** How many processes the benchmark still runs (for the final check). */
export function runningCount(): number {
  return running.size;
}
