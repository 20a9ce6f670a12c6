/**
 * The series the hot paths count in (src/observability/series.ts): what a scrape shows of them is what
 * prom-client's own `inc` and `observe` would have shown for the same calls, scrape after scrape.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Counter, Histogram, Registry } from "prom-client";
import { CounterSeriesSet, HistogramSeriesSet } from "../../src/observability/series.js";

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** The same metrics twice: one counted through series, one through prom-client directly; each in a registry of its own. */
function twins() {
  const viaSeries = new Registry();
  const direct = new Registry();
  const counters = new CounterSeriesSet<"method" | "code">(() => counter);
  const histograms = new HistogramSeriesSet<"method">(() => histogram, BOUNDS);
  const unlabelled = new HistogramSeriesSet<never>(() => plain, BOUNDS);
  const counter: Counter<"method" | "code"> = new Counter({ name: "t_calls_total", help: "h", labelNames: ["method", "code"], registers: [viaSeries], collect: () => counters.flush() });
  const histogram: Histogram<"method"> = new Histogram({ name: "t_seconds", help: "h", labelNames: ["method"], buckets: BOUNDS, registers: [viaSeries], collect: () => histograms.flush() });
  const plain: Histogram = new Histogram({ name: "t_plain_seconds", help: "h", buckets: BOUNDS, registers: [viaSeries], collect: () => unlabelled.flush() });
  return {
    viaSeries,
    direct,
    series: { counters, histograms, unlabelled },
    prom: {
      counter: new Counter({ name: "t_calls_total", help: "h", labelNames: ["method", "code"], registers: [direct] }),
      histogram: new Histogram({ name: "t_seconds", help: "h", labelNames: ["method"], buckets: BOUNDS, registers: [direct] }),
      plain: new Histogram({ name: "t_plain_seconds", help: "h", buckets: BOUNDS, registers: [direct] }),
    },
  };
}

describe("metric series", () => {
  it("scrape after scrape, the exposition is prom-client's for the same counts and observations", async () => {
    const t = twins();
    // Made before anything is counted in them: they show only once something is.
    const aOk = t.series.counters.series({ method: "A", code: "OK" });
    const aTimes = t.series.histograms.series({ method: "A" });
    const bTimes = t.series.histograms.series({ method: "B" });
    const plain = t.series.unlabelled.series({});
    assert.equal(await t.viaSeries.metrics(), await t.direct.metrics(), "nothing counted yet");

    const values = [0, 0.0005, 0.001, 0.0011, 0.05, 0.1, 0.7, 1, 3, 120];
    for (const v of values) {
      aTimes.observe(v);
      t.prom.histogram.observe({ method: "A" }, v);
      plain.observe(v);
      t.prom.plain.observe(v);
    }
    aOk.inc();
    aOk.inc(2);
    t.prom.counter.inc({ method: "A", code: "OK" });
    t.prom.counter.inc({ method: "A", code: "OK" }, 2);
    const first = await t.viaSeries.metrics();
    assert.equal(first, await t.direct.metrics());
    assert.match(first, /t_seconds_bucket\{le="0.001",method="A"\} 3/);
    assert.doesNotMatch(first, /method="B"/, "a series nothing was counted in does not show");

    // Counted again after a scrape: added to what the scrape showed, nothing counted twice.
    bTimes.observe(0.02);
    t.prom.histogram.observe({ method: "B" }, 0.02);
    aOk.inc();
    t.prom.counter.inc({ method: "A", code: "OK" });
    const aNotFound = t.series.counters.series({ method: "A", code: "NOT_FOUND" });
    aNotFound.inc();
    t.prom.counter.inc({ method: "A", code: "NOT_FOUND" });
    assert.equal(await t.viaSeries.metrics(), await t.direct.metrics());
    assert.equal(await t.viaSeries.metrics(), await t.direct.metrics(), "a scrape with nothing new changes nothing");
  });

  it("get() flushes too, as a test or an application reading a metric directly sees it", async () => {
    const t = twins();
    t.series.counters.series({ method: "A", code: "OK" }).inc(5);
    const { values } = await (t.viaSeries.getSingleMetric("t_calls_total") as Counter).get();
    assert.deepEqual(values.map((v) => [v.labels, v.value]), [[{ method: "A", code: "OK" }, 5]]);
  });
});
