// The longrun-signature header: what the webhook sink signs, what receivers verify (through longrun/client).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { signWebhookPayload } from "../../src/core/webhook-signature.js";
import { verifyWebhookSignature } from "../../src/client/index.js";

const secret = "s3cret";
const body = '{"message":{"data":"e30="}}';
const t = 1_800_000_000;
const now = new Date(t * 1000);

describe("webhook signature", () => {
  it("signs t=<seconds>,v1=<hex HMAC-SHA256 of t.body>", () => {
    const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    assert.equal(signWebhookPayload(secret, body, t + 0.9), `t=${t},v1=${expected}`);
    assert.equal(signWebhookPayload(secret, new TextEncoder().encode(body), t), `t=${t},v1=${expected}`);
  });

  it("verifies its own signature, over a string or the raw bytes", () => {
    const header = signWebhookPayload(secret, body, t);
    assert.equal(verifyWebhookSignature({ header, body, secret, now }), true);
    assert.equal(verifyWebhookSignature({ header, body: Buffer.from(body), secret, now }), true);
  });

  it("refuses a wrong secret, a tampered body, a missing header", () => {
    const header = signWebhookPayload(secret, body, t);
    assert.equal(verifyWebhookSignature({ header, body, secret: "other", now }), false);
    assert.equal(verifyWebhookSignature({ header, body: body + " ", secret, now }), false);
    assert.equal(verifyWebhookSignature({ header: undefined, body, secret, now }), false);
    assert.equal(verifyWebhookSignature({ header: "", body, secret, now }), false);
    assert.equal(verifyWebhookSignature({ header, body, secret: "", now }), false);
  });

  it("refuses a t older or newer than the tolerance, and accepts one within it", () => {
    const header = signWebhookPayload(secret, body, t);
    const at = (seconds: number) => new Date((t + seconds) * 1000);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: at(300) }), true);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: at(-300) }), true);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: at(301) }), false);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: at(-301) }), false);
    assert.equal(verifyWebhookSignature({ header, body, secret, now: at(3600), toleranceSeconds: 3600 }), true);
  });

  it("accepts any of several v1 values, and any of several secrets (rotation)", () => {
    const oldOne = signWebhookPayload("old", body, t).split(",")[1];
    const newOne = signWebhookPayload("new", body, t).split(",")[1];
    const header = `t=${t},${oldOne},${newOne}`;
    assert.equal(verifyWebhookSignature({ header, body, secret: "old", now }), true);
    assert.equal(verifyWebhookSignature({ header, body, secret: "new", now }), true);
    assert.equal(verifyWebhookSignature({ header, body, secret: "neither", now }), false);
    const single = signWebhookPayload("new", body, t);
    assert.equal(verifyWebhookSignature({ header: single, body, secret: ["old", "new"], now }), true);
    assert.equal(verifyWebhookSignature({ header: single, body, secret: ["old"], now }), false);
  });

  it("ignores unknown keys and spaces, refuses malformed headers", () => {
    const v1 = signWebhookPayload(secret, body, t).split(",")[1]!;
    assert.equal(verifyWebhookSignature({ header: `t=${t}, v0=abc, ${v1}`, body, secret, now }), true);
    for (const header of [
      v1,
      `t=${t}`,
      `t=${t},v1=`,
      `t=${t},v1=zz${v1.slice(5)}`,
      `t=${t},${v1.slice(0, -2)}`,
      `t=abc,${v1}`,
      `t=-1,${v1}`,
      `t=${t},t=${t},${v1}`,
      `t=${t};${v1}`,
      `garbage`,
      `t=${t},${v1},junk`,
    ]) {
      assert.equal(verifyWebhookSignature({ header, body, secret, now }), false, header);
    }
  });
});
