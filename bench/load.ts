/**
 * Closed-loop load with autocannon: `connections` kept-alive HTTPS connections, each sending the next
 * request when the last one is answered. Latencies are taken from every response (autocannon's own
 * histogram rounds to whole milliseconds, too coarse for sub-millisecond reviews).
 */
import autocannon from 'autocannon';
import { coreBusy, coreTimes, cpuSeconds, processCpuSeconds } from './memory.js';
import { DRIVER_CORE, SERVER_CORE } from './processes.js';
import { SampleReservoir, round, summarize, type LatencySummary } from './stats.js';

/** One load run. */
export interface LoadOptions {
  url: string;
  body: Buffer;
  connections: number;
  durationSec: number;
  /** Per-request timeout; a request that takes longer counts as an error. */
  timeoutSec?: number;
  /** The server's pid, to report how busy it was. */
  serverPid?: number;
}

/** What one load run measured. */
export interface LoadResult {
  connections: number;
  durationSec: number;
  /** Answers with status 2xx per second. */
  rps: number;
  requests: number;
  latency: LatencySummary;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU the server used, as a share of one core (1 = saturated). */
  serverCpu: number;
  /**
   * The server's CPU time per answered review, in microseconds: what a review costs, and the figure
   * least moved by other work on a shared machine (throughput and latency are moved much more).
   */
  cpuUsPerReview: number;
  /** CPU the load generator used, as a share of one core. */
  driverCpu: number;
  /** How busy the server's core was (its process plus the kernel's network work there), 0..1. */
  serverCoreBusy: number;
  /** How busy the driver's core was, 0..1. */
  driverCoreBusy: number;
  /**
   * CPU used by processes other than the server and the driver, in cores: another workload on the
   * machine, which makes the point pessimistic.
   */
  otherCpu: number;
}

/** Runs autocannon once and summarises it. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const reservoir = new SampleReservoir(500_000);
  const serverCpu0 = opts.serverPid !== undefined ? cpuSeconds(opts.serverPid) : Number.NaN;
  const driverCpu0 = process.cpuUsage();
  const serverCore0 = coreTimes(SERVER_CORE);
  const driverCore0 = coreTimes(DRIVER_CORE);
  const allCpu0 = processCpuSeconds();
  const wall0 = performance.now();
  let ok = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: opts.body,
        connections: opts.connections,
        pipelining: 1,
        duration: opts.durationSec,
        timeout: opts.timeoutSec ?? 30,
      },
      (err: unknown, res: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error('autocannon failed'));
        else resolve(res);
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        reservoir.add(responseTime);
      }
    });
  });
  const wallSec = (performance.now() - wall0) / 1000;
  const serverCoreBusy = coreBusy(serverCore0, coreTimes(SERVER_CORE));
  const driverCoreBusy = coreBusy(driverCore0, coreTimes(DRIVER_CORE));
  const allCpu = processCpuSeconds() - allCpu0;
  const driver = process.cpuUsage(driverCpu0);
  const serverCpu = opts.serverPid !== undefined ? cpuSeconds(opts.serverPid) - serverCpu0 : Number.NaN;
  const driverSec = (driver.user + driver.system) / 1e6;
  const otherCpu = (allCpu - (Number.isFinite(serverCpu) ? serverCpu : 0) - driverSec) / wallSec;
  const elapsed = result.duration > 0 ? result.duration : wallSec;
  return {
    connections: opts.connections,
    durationSec: round(elapsed, 2),
    rps: round(ok / elapsed, 1),
    requests: ok,
    latency: summarize(reservoir.samples),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    serverCpu: round(serverCpu / wallSec, 2),
    cpuUsPerReview: ok > 0 ? round((serverCpu / ok) * 1e6, 1) : Number.NaN,
    driverCpu: round(driverSec / wallSec, 2),
    serverCoreBusy: round(serverCoreBusy, 2),
    driverCoreBusy: round(driverCoreBusy, 2),
    otherCpu: round(Math.max(0, otherCpu), 2),
  };
}
