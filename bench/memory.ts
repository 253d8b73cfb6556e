/** Memory and CPU of a process, read from /proc: resident set, its peak, and CPU time. */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { round } from './stats.js';

const MIB = 1024;

/** VmRSS and VmHWM of a process, in MiB; undefined once it is gone. */
export function readRss(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / MIB, hwmMiB: kib('VmHWM') / MIB };
}

/**
 * Resets the peak resident set (VmHWM) to the current one (`echo 5 > /proc/PID/clear_refs`), so the
 * peak of each scenario can be read on its own. False where the kernel does not allow it.
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User plus system CPU time of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time and time spent runnable but waiting for a CPU (the scheduler's run delay), summed over a
 * process's threads, in ms, from /proc/PID/task/TID/schedstat; undefined once the process is gone.
 * A thread that ends between two readings takes its share with it.
 */
export function schedTimes(pid: number): { cpuMs: number; waitMs: number } | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let run = 0;
  let wait = 0;
  for (const tid of tasks) {
    try {
      const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      run += r ?? 0;
      wait += w ?? 0;
    } catch {
      // The thread ended after the listing.
    }
  }
  return { cpuMs: run / 1e6, waitMs: wait / 1e6 };
}

/** The CPU a process used and the time it waited for one between two schedTimes readings, in ms. */
export function schedBetween(
  a: { cpuMs: number; waitMs: number },
  b: { cpuMs: number; waitMs: number },
): { cpuMs: number; waitMs: number } {
  return { cpuMs: round(b.cpuMs - a.cpuMs), waitMs: round(b.waitMs - a.waitMs) };
}

/** Busy and total jiffies of one core from /proc/stat (busy counts softirq and steal, not idle or iowait). */
export function coreTimes(core: number): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${core} `));
    const f = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Seconds of CPU that processes (user + system, not interrupts) used on all cores together. */
export function processCpuSeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0)) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The share of a core that was busy between two readings of coreTimes. */
export function coreBusy(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : Number.NaN;
}

/**
 * Polls a process's RSS while a scenario runs; the peak is the larger of the highest poll and VmHWM
 * (which catches a spike between polls when the reset worked).
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private max = 0;
  private readonly resetOk: boolean;

  constructor(
    private readonly pid: number,
    intervalMs = 20,
  ) {
    this.resetOk = resetPeak(pid);
    this.poll();
    this.timer = setInterval(() => this.poll(), intervalMs);
  }

  private poll(): void {
    const r = readRss(this.pid);
    if (r !== undefined) this.max = Math.max(this.max, r.rssMiB);
  }

  /** Stops polling and returns the peak RSS seen, in MiB. */
  stop(): number {
    clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    const hwm = this.resetOk ? (readRss(this.pid)?.hwmMiB ?? 0) : 0;
    return Math.max(this.max, hwm);
  }
}

/** The busy share of every core together, measured over `ms`. */
export async function machineBusy(ms: number): Promise<number> {
  const read = (): { busy: number; total: number } => {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return coreBusy(a, read());
}

/**
 * Waits (at most `maxSec`) until nothing else keeps the machine busy: other processes on either core
 * would be measured as if they were the server's cost. Returns the last busy share seen.
 */
export async function waitForQuiet(
  maxSec: number,
  threshold = 0.1,
  log: (line: string) => void = () => undefined,
): Promise<number> {
  let quietFor = 0;
  let busy = Number.NaN;
  for (let second = 0; second < maxSec; second++) {
    busy = await machineBusy(1000);
    quietFor = busy < threshold ? quietFor + 1 : 0;
    if (quietFor >= 3) return busy;
    if (quietFor === 0 && second % 15 === 0) {
      log(
        `  waiting for a quiet machine: ${Math.round(busy * 100)}% busy with other processes (${second} s)`,
      );
    }
  }
  return busy;
}
