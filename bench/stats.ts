/** Latency statistics for the benchmark: exact percentiles over recorded samples (no histogram rounding). */

/** What one run reports about its latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The nearest-rank percentile (`p` in 0..100) of samples sorted ascending: the smallest value with at
 * least p% of the samples at or below it, as HdrHistogram and most load tools report it.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0] ?? Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/** Rounds to `digits` decimals, for reports that should not pretend to nanosecond precision. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The median (the mean of the middle two for an even count); the input is not modified. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Round-by-round ratios of two series measured in the same rounds (`a[i] / b[i]`), as a median and its
 * quartiles (nearest rank). Pairing by round cancels a drift of the machine's speed that moves both
 * sides of a round alike; rounds missing on either side are skipped.
 */
export function roundRatios(
  a: readonly number[],
  b: readonly number[],
): { median: number; q1: number; q3: number; n: number } {
  const rs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && y !== 0)
      rs.push(x / y);
  }
  const sorted = rs.sort((p, q) => p - q);
  return {
    median: round(median(sorted), 3),
    q1: round(percentile(sorted, 25), 3),
    q3: round(percentile(sorted, 75), 3),
    n: sorted.length,
  };
}

/** Summarises latency samples (ms); the input is not modified. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    count: arr.length,
    mean: round(arr.length > 0 ? sum / arr.length : Number.NaN, 3),
    p50: round(percentile(arr, 50), 3),
    p90: round(percentile(arr, 90), 3),
    p99: round(percentile(arr, 99), 3),
    max: round(arr.length > 0 ? (arr[arr.length - 1] ?? Number.NaN) : Number.NaN, 3),
  };
}

/** A ratio of two measurements, or null when the denominator is missing or zero. */
export function ratio(numerator: number | undefined, denominator: number | undefined): number | null {
  if (numerator === undefined || denominator === undefined || !Number.isFinite(numerator)) return null;
  if (!Number.isFinite(denominator) || denominator === 0) return null;
  return round(numerator / denominator, 3);
}

/**
 * Keeps at most `limit` samples with a uniform reservoir, so a long run at high throughput cannot
 * grow memory without bound while its percentiles stay unbiased.
 */
export class SampleReservoir {
  readonly samples: number[] = [];
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records one sample. */
  add(value: number): void {
    this.seen += 1;
    if (this.samples.length < this.limit) {
      this.samples.push(value);
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot < this.limit) this.samples[slot] = value;
  }

  /** How many samples were offered in all. */
  get total(): number {
    return this.seen;
  }
}
