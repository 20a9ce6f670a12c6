// The Cloud Search example (examples/cloud-search) against the `googleapis` package's cloudsearch v1 client
// (REST, gaxios), pointed at longrun with `rootUrl` and a fixed access token: offline.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { google, type cloudsearch_v1 } from "googleapis";
import { cloudSearchOptions } from "../../examples/cloud-search/server.js";
import { schemaPath } from "../../examples/cloud-search/methods.js";
import { startTestServer, type TestServer } from "../support/server.js";

const TEST = { timeout: 30_000 };
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const SCHEMA_TYPE = "type.googleapis.com/longrun.examples.cloudsearch.v1.Schema";

let t: TestServer;
let dir: string;
let cs: cloudsearch_v1.Cloudsearch;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cloud-search-"));
  t = await startTestServer(cloudSearchOptions(dir));
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: "test" });
  // retry: false, timeout: nothing may hang, and a stray 5xx shows at once instead of after 4 retries.
  cs = google.cloudsearch({ version: "v1", rootUrl: `${t.url}/`, auth, retry: false, timeout: 10_000 } as never);
});
after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const schema: cloudsearch_v1.Schema$Schema = {
  objectDefinitions: [
    {
      name: "Ticket",
      options: { freshnessOptions: { freshnessProperty: "updated" } },
      propertyDefinitions: [
        { name: "title", isReturnable: true, isWildcardSearchable: true, textPropertyOptions: { retrievalImportance: { importance: "HIGHEST" } } },
        { name: "priority", isReturnable: true, isSortable: true, integerPropertyOptions: { minimumValue: "0", maximumValue: "4" } },
        { name: "updated", isReturnable: true, timestampPropertyOptions: {} },
        { name: "labels", isRepeatable: true, textPropertyOptions: {}, displayOptions: { displayLabel: "Labels" } },
      ],
    },
  ],
};

/** operations.get until done (bounded). */
async function untilDone(name: string): Promise<cloudsearch_v1.Schema$Operation> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { data, status } = await cs.operations.get({ name });
    assert.equal(status, 200);
    if (data.done) return data;
    if (Date.now() > deadline) throw new Error(`${name} not done in 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function updateSchema(datasource: string, body: cloudsearch_v1.Schema$UpdateSchemaRequest): Promise<string> {
  const { data, status } = await cs.indexing.datasources.updateSchema({ name: datasource, requestBody: body });
  assert.equal(status, 200);
  assert.match(data.name ?? "", /^operations\/[A-Za-z0-9_-]+$/);
  return data.name!;
}

async function httpStatus(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
  throw new Error("expected a rejection");
}

describe("cloud search example with googleapis cloudsearch v1", () => {
  it("updates a schema: operation → operations.get until done → the stored schema", TEST, async () => {
    const name = await updateSchema("datasources/tickets", { schema, debugOptions: { enableDebugging: false } });
    const op = await untilDone(name);
    assert.equal(op.done, true);
    assert.equal(op.error, undefined);
    const response = op.response as { "@type": string } & cloudsearch_v1.Schema$Schema;
    assert.equal(response["@type"], SCHEMA_TYPE);
    const { "@type": _, ...decoded } = response;
    assert.deepEqual(decoded, schema);
    const metadata = op.metadata as Record<string, unknown>;
    assert.equal(metadata.datasource, "datasources/tickets");
    assert.equal(metadata.stage, "DONE");
    assert.equal(metadata.validatedObjects, 1);
    // Stored as a file per data source.
    const stored = JSON.parse(readFileSync(schemaPath(dir, "datasources/tickets"), "utf8"));
    assert.equal(stored.objectDefinitions[0].name, "Ticket");
  });

  it("validateOnly validates without storing", TEST, async () => {
    const op = await untilDone(await updateSchema("datasources/dry", { schema, validateOnly: true }));
    assert.equal(op.error, undefined);
    assert.equal((op.metadata as Record<string, unknown>).validateOnly, true);
    assert.equal(existsSync(schemaPath(dir, "datasources/dry")), false);
  });

  it("ends the operation with INVALID_ARGUMENT for an invalid schema", TEST, async () => {
    const bad: cloudsearch_v1.Schema$Schema[] = [
      { objectDefinitions: [{ name: "A" }, { name: "A" }] },
      { objectDefinitions: [{ name: "1bad" }] },
      { objectDefinitions: [{ name: "A", propertyDefinitions: [{ name: "x_y", textPropertyOptions: {} }] }] },
      { objectDefinitions: [{ name: "A", propertyDefinitions: [{ name: "x" }] }] },
      { objectDefinitions: [] },
    ];
    for (const s of bad) {
      const op = await untilDone(await updateSchema("datasources/bad", { schema: s }));
      assert.equal(op.error?.code, INVALID_ARGUMENT, JSON.stringify(s));
      assert.equal(op.response, undefined);
    }
    assert.equal(existsSync(schemaPath(dir, "datasources/bad")), false);
  });

  it("refuses a start with a bad data source name (the binding needs datasources/*)", TEST, async () => {
    // datasources/a/b does not match PUT /v1/indexing/{name=datasources/*}/schema.
    assert.equal(await httpStatus(cs.indexing.datasources.updateSchema({ name: "datasources/a/b", requestBody: { schema } })), 404);
  });

  it("lists operations with operations.lro.list, paged", TEST, async () => {
    const first = await cs.operations.lro.list({ name: "operations", pageSize: 2 });
    assert.equal(first.status, 200);
    assert.equal(first.data.operations?.length, 2);
    assert.ok(first.data.nextPageToken);
    const seen = new Set(first.data.operations!.map((o) => o.name));
    let token: string | undefined = first.data.nextPageToken!;
    while (token) {
      const page: { data: cloudsearch_v1.Schema$ListOperationsResponse } = await cs.operations.lro.list({ name: "operations", pageSize: 2, pageToken: token });
      for (const o of page.data.operations ?? []) seen.add(o.name);
      token = page.data.nextPageToken ?? undefined;
    }
    assert.ok(seen.size >= 7, `saw ${seen.size}`);
    // "operations/" is sent as /v1/operations//lro: an empty segment matches no binding.
    assert.equal(await httpStatus(cs.operations.lro.list({ name: "operations/" })), 404);
    // A filter (AIP-160 subset) passes through.
    const done = await cs.operations.lro.list({ name: "operations", filter: "done = true" });
    assert.equal(done.data.operations?.length, seen.size);
    // Another parent is refused.
    assert.equal(await httpStatus(cs.operations.lro.list({ name: "operations/x" })), 400);
  });

  it("deletes a schema; deleting it again ends with NOT_FOUND", TEST, async () => {
    await untilDone(await updateSchema("datasources/gone", { schema }));
    assert.equal(existsSync(schemaPath(dir, "datasources/gone")), true);
    const { data } = await cs.indexing.datasources.deleteSchema({ name: "datasources/gone" });
    const op = await untilDone(data.name!);
    assert.equal(op.error, undefined);
    assert.deepEqual(op.response, { "@type": "type.googleapis.com/google.protobuf.Empty" });
    assert.equal(existsSync(schemaPath(dir, "datasources/gone")), false);
    const again = await untilDone((await cs.indexing.datasources.deleteSchema({ name: "datasources/gone" })).data.name!);
    assert.equal(again.error?.code, NOT_FOUND);
  });

  it("answers operations.get for an unknown operation with 404", TEST, async () => {
    assert.equal(await httpStatus(cs.operations.get({ name: "operations/nope" })), 404);
  });

  it("serves no Cancel, Delete, Wait or default List: 501 UNIMPLEMENTED", TEST, async () => {
    const name = await updateSchema("datasources/c", { schema });
    const signal = AbortSignal.timeout(5_000);
    const calls: [string, string][] = [
      ["POST", `/v1/${name}:cancel`],
      ["POST", `/v1/${name}:wait`],
      ["DELETE", `/v1/${name}`],
      ["GET", "/v1/operations"],
    ];
    for (const [method, path] of calls) {
      const res = await fetch(`${t.url}${path}`, { method, signal, headers: { "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      assert.equal(res.status, 501, `${method} ${path}`);
      const body = (await res.json()) as { error: { status: string } };
      assert.equal(body.error.status, "UNIMPLEMENTED");
    }
    // Malformed percent-encoding is a 400 (never a 500, which googleapis would retry).
    const bad = await fetch(`${t.url}/v1/operations/%E0%A4%A/lro`, { signal });
    assert.equal(bad.status, 400);
    // A trailing empty "?" is accepted.
    const q = await fetch(`${t.url}/v1/${name}?`, { signal });
    assert.equal(q.status, 200);
  });
});
