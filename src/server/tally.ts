/**
 * The two metrics every review updates, counted in plain numbers. prom-client's Counter.inc and
 * Histogram.observe validate and hash their labels on every call: 1-3 µs of each review, 2-5 %
 * of what a small review costs the server in all. These keep a series per label
 * values and give prom-client's own shapes when the registry is scraped, so `/metrics` reads exactly
 * as before (test/unit/tally.test.ts compares the two).
 */
import type { Metric, Registry } from 'prom-client';

/** A value as the registry formats it: labels (and, for buckets, the series' labels apart). */
interface Exported {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
  /** prom-client's buckets carry one (null: none recorded); exemplars are not used here. */
  exemplar?: null;
}

/** What the registry reads from a metric when scraped. */
interface Exposition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Exported[];
  aggregator: 'sum';
}

/** The options both take, as prom-client's do. */
export interface TallyOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** A series: its label values and what was counted. */
interface Series<L extends string> {
  labels: Record<L, string>;
  count: number;
}

/** A level of the series tree: one Map per label, keyed by its value; the last level holds the series. */
type Level<S> = Map<string, Level<S> | S>;

/** Shared by both: series found through one Map per label, so no key is built per call. */
abstract class Tally<L extends string, S extends Series<L>> {
  readonly aggregator = 'sum';
  /** Every series, in the order first seen (the order prom-client exports them in). */
  protected series: S[] = [];
  private tree: Level<S> = new Map();

  /** Plain fields, not getters: a registry set to OpenMetrics renames counters in place. */
  name: string;
  help: string;

  constructor(protected readonly o: TallyOptions<L>) {
    if (o.labelNames.length === 0) throw new Error(`${o.name}: a tally needs at least one label`);
    this.name = o.name;
    this.help = o.help;
    // The registry reads any object with a name and get(); prom-client's types list only its own.
    for (const r of o.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The label names, as prom-client's metrics list them. */
  get labelNames(): readonly L[] {
    return this.o.labelNames;
  }

  protected seriesOf(labels: Record<L, string>): S {
    const names = this.o.labelNames;
    let level = this.tree;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i] as L];
      let next = level.get(value) as Level<S> | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const value = labels[names[last] as L];
    let s = level.get(value) as S | undefined;
    if (s === undefined) {
      const own = {} as Record<L, string>;
      for (const n of names) own[n] = labels[n];
      s = this.fresh(own);
      level.set(value, s);
      this.series.push(s);
    }
    return s;
  }

  protected abstract fresh(labels: Record<L, string>): S;

  /** Forgets every series (the registry's resetMetrics). */
  reset(): void {
    this.series = [];
    this.tree = new Map();
  }
}

/** A counter by label values. */
export class TallyCounter<L extends string> extends Tally<L, Series<L>> {
  readonly type = 'counter';

  inc(labels: Record<L, string>, by = 1): void {
    this.seriesOf(labels).count += by;
  }

  protected fresh(labels: Record<L, string>): Series<L> {
    return { labels, count: 0 };
  }

  get(): Promise<Exposition> {
    const values = this.series.map((s) => ({ value: s.count, labels: s.labels }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }
}

interface HistogramSeries<L extends string> extends Series<L> {
  /** Observations per bucket (not cumulative), the last one past every bound. */
  buckets: number[];
  sum: number;
}

/** A histogram by label values, with prom-client's bucket semantics (a value equal to a bound is in it). */
export class TallyHistogram<L extends string> extends Tally<L, HistogramSeries<L>> {
  readonly type = 'histogram';

  constructor(
    o: TallyOptions<L>,
    private readonly bounds: readonly number[],
  ) {
    super(o);
  }

  observe(labels: Record<L, string>, value: number): void {
    const s = this.seriesOf(labels);
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    s.buckets[i] = (s.buckets[i] as number) + 1;
    s.sum += value;
    s.count += 1;
  }

  protected fresh(labels: Record<L, string>): HistogramSeries<L> {
    return { labels, count: 0, sum: 0, buckets: new Array<number>(this.bounds.length + 1).fill(0) };
  }

  /** What the registry formats: `le` first, then the series' labels, as prom-client's Histogram writes it. */
  getForPromString(): Promise<Exposition> {
    const values: Exported[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.buckets[i] as number;
        values.push({
          labels: { le },
          sharedLabels: s.labels,
          value: acc,
          metricName: bucket,
          exemplar: null,
        });
      });
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: s.labels,
        value: s.count,
        metricName: bucket,
        exemplar: null,
      });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' });
  }

  /** The same with each value's labels in one object, as prom-client's Histogram.get() gives them. */
  async get(): Promise<Exposition> {
    const e = await this.getForPromString();
    return {
      ...e,
      values: e.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } })),
    };
  }
}
