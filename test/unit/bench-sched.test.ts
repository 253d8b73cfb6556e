import { describe, expect, it } from 'vitest';
import { schedTimes } from '../../bench/memory.js';

describe("a server's CPU and its wait for a CPU, as bench:e2e reads them per write", () => {
  it('when the process works, then its CPU time grows by at least the work, and its wait never goes back', () => {
    const before = schedTimes(process.pid);
    const t0 = process.cpuUsage();
    let x = 0;
    for (let i = 0; i < 30_000_000; i++) x = (x + i * 7) % 1_000_003;
    const usedMs = process.cpuUsage(t0).user / 1000;
    const after = schedTimes(process.pid);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(before && after).toBeTruthy();
    // schedstat counts nanoseconds on the CPU; cpuUsage counts in ticks of the same clock, so allow a tick.
    expect((after?.cpuMs ?? 0) - (before?.cpuMs ?? 0)).toBeGreaterThanOrEqual(usedMs - 10);
    expect(after?.waitMs ?? -1).toBeGreaterThanOrEqual(before?.waitMs ?? 0);
  });

  it('when the process is gone, then there is no reading rather than a zero', () => {
    expect(schedTimes(2 ** 22 + 4321)).toBeUndefined();
  });
});
