// `longrun serve` and the dashboard: served at /ui by default, moved by --ui-path (or LONGRUN_UI_PATH), off
// with --no-ui; the address printed on start.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer } from "../support/process.js";

async function serveWith(args: string[], env: Record<string, string> = {}): Promise<{ lines: string; status: (path: string) => Promise<number> }> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-serve-ui-"));
  const server = await spawnServer(["--demo", "--store", `sqlite:${join(dir, "ops.db")}`, ...args], env);
  try {
    // The dashboard's line follows the REST one.
    await new Promise((r) => setTimeout(r, 100));
    const statuses = new Map<string, number>();
    for (const path of ["/ui/", "/dash/", "/v1/operations:watch"]) {
      const res = await fetch(`${server.httpUrl}${path}`);
      statuses.set(path, res.status);
      await res.body?.cancel();
    }
    return { lines: server.output(), status: async (path) => statuses.get(path) ?? 0 };
  } finally {
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("longrun serve and the dashboard", () => {
  it("serves it at /ui by default and says where", async () => {
    const { lines, status } = await serveWith([]);
    assert.match(lines, /dashboard at http:\/\/127\.0\.0\.1:\d+\/ui\//);
    assert.equal(await status("/ui/"), 200);
    assert.equal(await status("/v1/operations:watch"), 200);
  });

  it("--ui-path and LONGRUN_UI_PATH move it", async () => {
    for (const [args, env] of [[["--ui-path", "/dash"], {}], [[], { LONGRUN_UI_PATH: "/dash" }]] as const) {
      const { lines, status } = await serveWith([...args], env);
      assert.match(lines, /dashboard at http:\/\/127\.0\.0\.1:\d+\/dash\//);
      assert.equal(await status("/dash/"), 200);
      assert.equal(await status("/ui/"), 404);
    }
  });

  it("--no-ui serves neither the dashboard nor its stream", async () => {
    const { lines, status } = await serveWith(["--no-ui"]);
    assert.doesNotMatch(lines, /dashboard at/);
    assert.equal(await status("/ui/"), 404);
    assert.equal(await status("/v1/operations:watch"), 404);
  });
});
