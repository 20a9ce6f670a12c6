import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Metrics } from "../../src/observability/metrics.js";
import type { Store } from "../../src/store/store.js";

// docs/observability.md lists every metric, and the Grafana dashboard queries only metrics that exist.
const doc = readFileSync(new URL("../../docs/observability.md", import.meta.url), "utf8");
const dashboard = readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url), "utf8");

function longrunMetrics(): Map<string, string> {
  const metrics = new Metrics({ store: {} as Store, methods: () => [], log: () => {}, processMetrics: false });
  return new Map(metrics.registry.getMetricsAsArray().map((m) => [m.name, (m as unknown as { constructor: { name: string } }).constructor.name.toLowerCase()]));
}

describe("docs/observability.md and the Grafana dashboard against the registry", () => {
  it("documents every metric with its type, and no other", () => {
    const metrics = longrunMetrics();
    const documented = new Map(
      [...doc.matchAll(/^\| `(longrun_[a-z_]+)` \| (\w+) \|/gm)].map((m) => [m[1]!, m[2]!]),
    );
    assert.deepEqual([...documented.keys()].sort(), [...metrics.keys()].sort());
    for (const [name, type] of metrics) assert.equal(documented.get(name), type, `${name}: type`);
  });

  it("the dashboard is valid JSON whose queries name only existing metrics (histograms by their series)", () => {
    const parsed = JSON.parse(dashboard) as { panels: { type: string; targets?: { expr: string }[] }[] };
    const metrics = longrunMetrics();
    const series = new Set<string>();
    for (const [name, type] of metrics) {
      if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) series.add(name + suffix);
      else series.add(name);
    }
    const used = new Set<string>();
    for (const panel of parsed.panels) {
      if (panel.type === "row") continue;
      assert.ok(panel.targets && panel.targets.length > 0);
      for (const { expr } of panel.targets) for (const [name] of expr.matchAll(/longrun_[a-z_]+/g)) used.add(name);
    }
    for (const name of used) assert.ok(series.has(name), `${name} is not a metric`);
    for (const name of metrics.keys()) assert.ok([...used].some((u) => u.startsWith(name)), `${name} has no panel`);
  });
});
