import type { Counter, Histogram, LabelValues } from "prom-client";

/**
 * Labelled series counted in plain numbers on the hot path and added to their prom-client metric when it is
 * read (a scrape, or `get()`: the metric's `collect` calls `flush`). prom-client checks and hashes the labels
 * at every `inc` and `observe`, labelled child or not; a busy server calls them several times an RPC and
 * an operation, so a series is looked up once (by whoever counts) and only the flush pays prom-client's
 * price, once a series a scrape. A series appears at the first scrape after its first count, as it did
 * with prom-client's own `inc` and `observe`; the exposition text is the same.
 */

/** One series of a counter: increments added up until the next flush. */
export class CounterSeries {
  pending = 0;

  constructor(readonly labels: LabelValues<string>) {}

  inc(by = 1): void {
    this.pending += by;
  }
}

/** The series of one counter, made when first asked for. */
export class CounterSeriesSet<T extends string> {
  readonly #all: CounterSeries[] = [];

  /** `counter` must call `flush` from its `collect`. */
  constructor(private readonly counter: () => Counter<T>) {}

  series(labels: LabelValues<T>): CounterSeries {
    const series = new CounterSeries(labels);
    this.#all.push(series);
    return series;
  }

  flush(): void {
    const counter = this.counter();
    for (const series of this.#all) {
      if (series.pending === 0) continue;
      counter.inc(series.labels as LabelValues<T>, series.pending);
      series.pending = 0;
    }
  }
}

/** One series of a histogram: its observations by bucket (`le` each bound, without the +Inf one), sum and count, until the next flush. */
export class HistogramSeries {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  /** prom-client's record of this series, found at its first flush. */
  entry: HistogramEntry | undefined;

  constructor(
    readonly labels: LabelValues<string>,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.buckets[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** How prom-client 15 keeps a histogram's series (lib/histogram.js: `hashMap` of these); checked at first use. */
interface HistogramEntry {
  labels: LabelValues<string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** The series of one histogram, made when first asked for. */
export class HistogramSeriesSet<T extends string> {
  readonly #all: HistogramSeries[] = [];

  /** `histogram` (with `bounds` as its buckets) must call `flush` from its `collect`. */
  constructor(
    private readonly histogram: () => Histogram<T>,
    private readonly bounds: readonly number[],
  ) {}

  series(labels: LabelValues<T>): HistogramSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.#all.push(series);
    return series;
  }

  flush(): void {
    for (const series of this.#all) {
      if (series.count === 0) continue;
      const entry = (series.entry ??= this.#entryOf(series.labels as LabelValues<T>));
      for (let i = 0; i < this.bounds.length; i++) {
        if (series.buckets[i] === 0) continue;
        entry.bucketValues[this.bounds[i]!]! += series.buckets[i]!;
        series.buckets[i] = 0;
      }
      entry.sum += series.sum;
      entry.count += series.count;
      series.sum = 0;
      series.count = 0;
    }
  }

  /**
   * prom-client's record of the series, made (`zero`) if it has none yet. prom-client has no public way to
   * add many observations at once: its own record is written, the shape checked so that an upgrade that
   * changes it fails loudly (test/unit/metric-series.test.ts compares the exposition with prom-client's `observe`).
   */
  #entryOf(labels: LabelValues<T>): HistogramEntry {
    const histogram = this.histogram();
    const find = (): HistogramEntry | undefined =>
      Object.values((histogram as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap ?? {}).find((e) => sameLabels(e.labels, labels));
    let entry = find();
    if (entry === undefined) {
      histogram.zero(labels);
      entry = find();
    }
    const found = entry;
    if (found === undefined || typeof found.sum !== "number" || typeof found.count !== "number" || !this.bounds.every((b) => typeof found.bucketValues[b] === "number")) {
      throw new Error(`prom-client's histogram ${JSON.stringify(labels)} is not kept as expected (a prom-client upgrade?)`);
    }
    return found;
  }
}

function sameLabels(a: LabelValues<string>, b: LabelValues<string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
