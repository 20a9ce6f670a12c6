// The webhook sink against a real node:http receiver: the Pub/Sub push envelope, its signature, and the
// outcome of each kind of answer (or of none).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookSink } from "../../src/notify/webhook.js";
import { never, notification, operation } from "../support/notifications.js";
import { verifyWebhookSignature } from "../../src/client/index.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let received: Received[] = [];
let answer: Answer = (_req, res) => res.writeHead(200).end("ok");

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function reset(next: Answer): void {
  received = [];
  answer = next;
}

describe("webhook sink", () => {
  it("POSTs the Pub/Sub push envelope, data base64 of the operation JSON", async () => {
    reset((_req, res) => res.writeHead(204).end());
    const sink = new WebhookSink(`${base}/hook?x=1`, { subscription: "projects/p/subscriptions/s" });
    const outcomes = await sink.deliver([notification("ev-1"), notification("ev-2", "NONE")], never);
    assert.deepEqual(outcomes, [{ kind: "delivered" }, { kind: "delivered" }]);
    assert.equal(received.length, 2);
    const byId = new Map(received.map((r) => [JSON.parse(r.body).message.messageId as string, r]));
    const first = byId.get("ev-1")!;
    assert.equal(first.path, "/hook?x=1");
    assert.equal(first.headers["content-type"], "application/json");
    assert.equal(first.headers["longrun-signature"], undefined);
    const data = Buffer.from(JSON.stringify(operation)).toString("base64");
    const attributes = { eventType: "OPERATION_DONE", eventId: "ev-1", operationName: "operations/abc", payloadFormat: "JSON" };
    assert.equal(
      first.body,
      JSON.stringify({
        message: {
          attributes,
          data,
          messageId: "ev-1",
          message_id: "ev-1",
          publishTime: "2026-12-07T06:00:00.123Z",
          publish_time: "2026-12-07T06:00:00.123Z",
        },
        subscription: "projects/p/subscriptions/s",
      }),
    );
    assert.deepEqual(JSON.parse(Buffer.from(JSON.parse(first.body).message.data, "base64").toString("utf8")), operation);
    const second = JSON.parse(byId.get("ev-2")!.body);
    assert.equal("data" in second.message, false);
    assert.equal(second.message.attributes.payloadFormat, "NONE");
    await sink.close();
    await sink.close();
  });

  it("uses the default subscription", async () => {
    reset((_req, res) => res.writeHead(200).end());
    const sink = new WebhookSink(`${base}/hook`);
    await sink.deliver([notification("ev-3")], never);
    assert.equal(JSON.parse(received[0]!.body).subscription, "projects/longrun/subscriptions/longrun");
  });

  it("signs the body with the secret: verifies with it, not with another, a tampered body or a stale t", async () => {
    reset((_req, res) => res.writeHead(200).end());
    const secret = "whsec-test-1";
    const sink = new WebhookSink(`${base}/hook`, { secret });
    assert.deepEqual(await sink.deliver([notification("ev-4")], never), [{ kind: "delivered" }]);
    const { headers, body } = received[0]!;
    const header = headers["longrun-signature"] as string;
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/^t=(\d+)/.exec(header)![1]);
    assert.ok(Math.abs(t - Date.now() / 1000) < 60);
    assert.equal(verifyWebhookSignature({ header, body, secret }), true);
    assert.equal(verifyWebhookSignature({ header, body, secret: "whsec-other" }), false);
    assert.equal(verifyWebhookSignature({ header, body: body.replace("ev-4", "ev-5"), secret }), false);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: new Date((t + 301) * 1000) }), false);
  });

  for (const status of [200, 201, 202, 204]) {
    it(`HTTP ${status}: delivered`, async () => {
      reset((_req, res) => res.writeHead(status).end());
      assert.deepEqual(await new WebhookSink(base).deliver([notification("ev")], never), [{ kind: "delivered" }]);
    });
  }

  it("500, 503 and 429 retry, after Retry-After (seconds or an HTTP-date) when given", async () => {
    const cases: Array<[number, Record<string, string>, string, number | undefined]> = [
      [500, {}, "HTTP 500 Internal Server Error", undefined],
      [503, { "retry-after": "7" }, "HTTP 503 Service Unavailable", 7000],
      [429, { "retry-after": new Date(Date.now() + 120_000).toUTCString() }, "HTTP 429 Too Many Requests", 120_000],
    ];
    for (const [status, headers, reason, retryAfter] of cases) {
      reset((_req, res) => res.writeHead(status, headers).end("busy"));
      const [outcome] = await new WebhookSink(base).deliver([notification("ev")], never);
      assert.equal(outcome!.kind, "retry");
      assert.equal((outcome as { reason: string }).reason, reason);
      const after = (outcome as { retryAfterMs?: number }).retryAfterMs;
      if (retryAfter === undefined) assert.equal(after, undefined);
      // An HTTP-date has whole seconds: up to 1 s less, and the clock moves on while the test runs.
      else assert.ok(after! <= retryAfter && after! > retryAfter - 10_000, `${status}: ${after}`);
    }
  });

  it("400, 404 and a redirect fail, with the status as the reason", async () => {
    const cases: Array<[number, string]> = [
      [400, "HTTP 400 Bad Request"],
      [404, "HTTP 404 Not Found"],
      [302, "HTTP 302 Found"],
    ];
    for (const [status, reason] of cases) {
      reset((_req, res) => res.writeHead(status, { location: "/elsewhere" }).end("no"));
      assert.deepEqual(await new WebhookSink(base).deliver([notification("ev")], never), [{ kind: "failed", reason }]);
      assert.equal(received.length, 1, "the redirect is not followed");
    }
  });

  it("a receiver that never answers: retry after timeoutMs", async () => {
    reset(() => {});
    const [outcome] = await new WebhookSink(base, { timeoutMs: 200 }).deliver([notification("ev")], never);
    assert.deepEqual(outcome, { kind: "retry", reason: "no answer in 200 ms" });
  });

  it("an abort at shutdown: retry", async () => {
    reset(() => {});
    const controller = new AbortController();
    const delivering = new WebhookSink(base).deliver([notification("a"), notification("b")], controller.signal);
    while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const outcomes = await delivering;
    assert.deepEqual(outcomes, [
      { kind: "retry", reason: "aborted (shutting down)" },
      { kind: "retry", reason: "aborted (shutting down)" },
    ]);
    assert.deepEqual(await new WebhookSink(base).deliver([notification("c")], controller.signal), [
      { kind: "retry", reason: "aborted (shutting down)" },
    ]);
  });

  it("connection refused: retry, with the cause", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const [outcome] = await new WebhookSink(`http://127.0.0.1:${port}/`).deliver([notification("ev")], never);
    assert.equal(outcome!.kind, "retry");
    assert.match((outcome as { reason: string }).reason, /ECONNREFUSED/);
  });

  it("a batch goes out concurrently, outcomes in order", async () => {
    const waiting: ServerResponse[] = [];
    reset((req, res) => {
      waiting.push(res);
      if (waiting.length === 5) for (const r of waiting) r.writeHead(r === waiting[2] ? 400 : 200).end();
    });
    const outcomes = await new WebhookSink(base).deliver(["a", "b", "c", "d", "e"].map((id) => notification(id)), never);
    assert.equal(outcomes.length, 5);
    assert.equal(outcomes.filter((o) => o.kind === "delivered").length, 4);
    const failedIndex = outcomes.findIndex((o) => o.kind === "failed");
    const failedId = JSON.parse(received[2]!.body).message.messageId as string;
    assert.equal(["a", "b", "c", "d", "e"][failedIndex], failedId);
  });

  it("URL credentials go as Basic auth; neither they, the query nor the secret show in name or reasons", async () => {
    reset((_req, res) => res.writeHead(500).end());
    const sink = new WebhookSink(`${base.replace("http://", "http://alice:p%40ss-word@")}/hook?token=tok-123`, { secret: "sec-456" });
    assert.equal(sink.name, `${base}/hook?…`);
    const [outcome] = await sink.deliver([notification("ev")], never);
    assert.equal(received[0]!.headers.authorization, `Basic ${Buffer.from("alice:p@ss-word").toString("base64")}`);
    assert.equal(received[0]!.path, "/hook?token=tok-123");
    const shown = JSON.stringify([sink.name, outcome]);
    for (const secret of ["alice", "ss-word", "tok-123", "sec-456"]) assert.equal(shown.includes(secret), false, secret);

    const refused = new WebhookSink("http://bob:hunter2@127.0.0.1:1/?token=tok-789", { secret: "sec-456" });
    const [refusal] = await refused.deliver([notification("ev")], never);
    const shownRefusal = JSON.stringify([refused.name, refusal]);
    for (const secret of ["bob", "hunter2", "tok-789", "sec-456"]) assert.equal(shownRefusal.includes(secret), false, secret);
  });

  it("refuses a URL that is not http(s)", () => {
    assert.throws(() => new WebhookSink("ftp://example.com/"), /http:\/\/ or https:\/\//);
    assert.throws(() => new WebhookSink(base, { timeoutMs: 0 }), /timeoutMs/);
  });
});
