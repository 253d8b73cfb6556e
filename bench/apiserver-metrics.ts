/**
 * The API server's own view of a webhook: `apiserver_admission_webhook_admission_duration_seconds`
 * read from GET /metrics, two scrapes subtracted, and quantiles interpolated within the buckets
 * (as Prometheus' histogram_quantile does: the true value lies anywhere in its bucket).
 */
import { request } from 'node:https';

const METRIC = 'apiserver_admission_webhook_admission_duration_seconds_bucket';
const SUM = 'apiserver_admission_webhook_admission_duration_seconds_sum';

/** Cumulative bucket counts by upper bound (seconds), for one webhook (and operation). */
export type Buckets = Map<number, number>;

/** What one webhook's calls looked like between two scrapes. */
export interface WebhookLatency {
  calls: number;
  /** Bucket-interpolated quantiles, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Share of calls at or under each bucket bound (ms → share), the facts the quantiles are read from. */
  atOrUnder: Record<string, number>;
  /** All the calls' time together, in milliseconds (the `_sum`); absent in runs before it was read. */
  totalMs?: number;
}

/** GET /metrics of the API server with a bearer token. */
export function scrape(server: string, caPem: string, token: string): Promise<string> {
  const url = new URL(`${server}/metrics`);
  return new Promise((resolve, reject) => {
    request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        ca: caPem,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: HTTP ${res.statusCode}`)),
        );
      },
    )
      .on('error', reject)
      .end();
  });
}

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="([^"]*)"/g)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

/**
 * A Prometheus histogram's buckets (`<metric>{...,le="..."} n` lines) per key, summed over the
 * labels the key leaves out; `keyOf` names a sample's key from its labels, or skips it (undefined).
 */
export function histogramBuckets(
  text: string,
  metric: string,
  keyOf: (labels: Record<string, string>) => string | undefined,
): Map<string, Buckets> {
  const out = new Map<string, Buckets>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const l = labels(line.slice(metric.length + 1, close));
    const key = keyOf(l);
    if (key === undefined || l.le === undefined) continue;
    const le = l.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(l.le);
    const buckets = out.get(key) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + Number(line.slice(close + 1).trim()));
    out.set(key, buckets);
  }
  return out;
}

/** A validating webhook's key: its name, or `name operation` when `byOperation`. */
function webhookKey(byOperation: boolean): (l: Record<string, string>) => string | undefined {
  return (l) => {
    if (l.type !== 'validating' || l.name === undefined) return undefined;
    return byOperation ? `${l.name} ${l.operation ?? ''}` : l.name;
  };
}

/**
 * The API server's webhook histogram per key, summed over the other labels (rejected or not, and
 * operations unless `byOperation`): key is the webhook's name, or `name operation`.
 */
export function webhookBuckets(text: string, byOperation = false): Map<string, Buckets> {
  return histogramBuckets(text, METRIC, webhookKey(byOperation));
}

/**
 * The seconds the API server spent waiting on each webhook (the histogram's `_sum`), keyed as
 * webhookBuckets keys them: the time its calls added to the requests that made them.
 */
export function webhookSeconds(text: string, byOperation = false): Map<string, number> {
  return histogramSums(text, SUM, webhookKey(byOperation));
}

/** The webhook's own `gloo_guard_admission_duration_seconds` (arrival to answer) per object kind. */
export function serverBuckets(text: string): Map<string, Buckets> {
  return histogramBuckets(text, 'gloo_guard_admission_duration_seconds_bucket', (l) => l.kind);
}

/** after - before for `_sum` samples, per key (a key absent before counts from zero). */
export function subtractSums(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([key, v]) => [key, v - (before.get(key) ?? 0)] as const));
}

/** after - before, per key (a key absent before counts from zero). */
export function subtract(after: Map<string, Buckets>, before: Map<string, Buckets>): Map<string, Buckets> {
  const out = new Map<string, Buckets>();
  for (const [key, buckets] of after) {
    const base = before.get(key);
    out.set(key, new Map([...buckets].map(([le, n]) => [le, n - (base?.get(le) ?? 0)])));
  }
  return out;
}

/** The q-quantile in seconds, interpolated linearly within its bucket (histogram_quantile's rule). */
export function quantile(buckets: Buckets, q: number): number {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const count = buckets.get(le) ?? 0;
    if (count >= rank) {
      // Above the last finite bound nothing can be said but that bound.
      if (le === Number.POSITIVE_INFINITY) return prevBound;
      return prevBound + (le - prevBound) * ((rank - prevCount) / (count - prevCount || 1));
    }
    [prevBound, prevCount] = [le, count];
  }
  return prevBound;
}

/** Calls, interpolated p50/p99 and the share under each bound, for one webhook between two scrapes. */
export function latencyOf(buckets: Buckets | undefined): WebhookLatency {
  const b = buckets ?? new Map<number, number>();
  const calls = b.get(Number.POSITIVE_INFINITY) ?? 0;
  const atOrUnder: Record<string, number> = {};
  for (const [le, n] of [...b].sort((x, y) => x[0] - y[0])) {
    if (Number.isFinite(le) && calls > 0)
      atOrUnder[String(le * 1000)] = Math.round((n / calls) * 1000) / 1000;
  }
  const ms = (s: number): number => Math.round(s * 1e5) / 100;
  return { calls, p50Ms: ms(quantile(b, 0.5)), p99Ms: ms(quantile(b, 0.99)), atOrUnder };
}

/** The webhook process's garbage collection between two scrapes, per kind (prom-client's default metrics). */
export type GcPauses = Record<string, { count: number; totalMs: number; over1Ms: number; over10Ms: number }>;

/**
 * A Prometheus histogram's `_sum` samples (`<metric>_sum{...} v` lines) per key, summed over the
 * labels the key leaves out; `keyOf` as in histogramBuckets.
 */
export function histogramSums(
  text: string,
  metric: string,
  keyOf: (labels: Record<string, string>) => string | undefined,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const key = keyOf(labels(line.slice(metric.length + 1, close)));
    if (key !== undefined) out.set(key, (out.get(key) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return out;
}

/** How often the webhook collected garbage between the scrapes, for how long in all, and how many pauses were long. */
export function gcPauses(before: string, after: string): GcPauses {
  const metric = 'nodejs_gc_duration_seconds';
  const buckets = subtract(
    histogramBuckets(after, `${metric}_bucket`, (l) => l.kind),
    histogramBuckets(before, `${metric}_bucket`, (l) => l.kind),
  );
  const byKind = (l: Record<string, string>): string | undefined => l.kind;
  const sums = subtractSums(
    histogramSums(after, `${metric}_sum`, byKind),
    histogramSums(before, `${metric}_sum`, byKind),
  );
  const out: GcPauses = {};
  for (const [kind, sum] of sums) {
    const b = buckets.get(kind);
    const count = b?.get(Number.POSITIVE_INFINITY) ?? 0;
    if (count === 0) continue;
    out[kind] = {
      count,
      totalMs: Math.round(sum * 1e5) / 100,
      over1Ms: count - (b?.get(0.001) ?? 0),
      over10Ms: count - (b?.get(0.01) ?? 0),
    };
  }
  return out;
}

/** The longest and the p99 tick of the webhook's event loop between two scrapes (eventLoopTicks). */
export interface LoopTicks {
  longestMs: number;
  p99Ms: number;
}

/** A sample of an unlabelled (or labelled) gauge, the first one in the text; undefined when absent. */
function gaugeValue(text: string, metric: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue;
    // The value is the first field after the name and labels (a timestamp may follow it).
    const fields = (rest.startsWith('{') ? rest.slice(rest.lastIndexOf('}') + 1) : rest).trim().split(/\s+/);
    const v = Number(fields[0]);
    return Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

/**
 * The webhook's event loop since the scrape before this one, from prom-client's default metrics:
 * `monitorEventLoopDelay` with a timer every 10 ms, whose histogram prom-client resets at each
 * scrape. A tick is the time between two firings, so 10 ms is a loop that never waited and 50 ms
 * one that was held for 40 ms (a long GC pause, a long task): a review that arrives then waits in
 * the socket, where the webhook's own histogram cannot see it. Undefined without the gauges.
 */
export function eventLoopTicks(after: string): LoopTicks | undefined {
  const max = gaugeValue(after, 'nodejs_eventloop_lag_max_seconds');
  const p99 = gaugeValue(after, 'nodejs_eventloop_lag_p99_seconds');
  if (max === undefined || p99 === undefined || max <= 0) return undefined;
  const ms = (s: number): number => Math.round(s * 1e5) / 100;
  return { longestMs: ms(max), p99Ms: ms(p99) };
}
