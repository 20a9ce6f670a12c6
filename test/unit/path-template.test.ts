import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parsePathTemplate, PathTemplateError } from "../../src/http/path-template.js";
import { acceptUrlSegment, expandPath, fixedSegments, matchParts, valueFits, variableValues } from "../../src/http/path-match.js";

// The google.api.http templates the REST server routes by and the REST client builds paths from.
describe("path templates", () => {
  it("parses segments, variables and verbs", () => {
    const t = parsePathTemplate("/v1/{name=operations/**}:cancel");
    assert.deepEqual(t.segments, [{ kind: "literal", value: "v1" }, { kind: "literal", value: "operations" }, { kind: "multi" }]);
    assert.deepEqual(t.variables, [{ fieldPath: ["name"], start: 1, end: 3, multiSegment: true }]);
    assert.equal(t.verb, "cancel");
    assert.equal(t.endsWithMulti, true);

    const g = parsePathTemplate("/v1/operations/{name}");
    assert.deepEqual(g.variables, [{ fieldPath: ["name"], start: 2, end: 3, multiSegment: false }]);
    assert.equal(g.verb, undefined);

    const d = parsePathTemplate("/v1/demo:sleep");
    assert.deepEqual(d.segments, [{ kind: "literal", value: "v1" }, { kind: "literal", value: "demo" }]);
    assert.equal(d.verb, "sleep");

    const n = parsePathTemplate("/v1/{book.name=shelves/*/books/*}/x/*");
    assert.deepEqual(n.variables[0], { fieldPath: ["book", "name"], start: 1, end: 5, multiSegment: true });
    assert.equal(n.segments.length, 7);

    assert.equal(parsePathTemplate("/v1/{name=operations}").variables[0]!.multiSegment, false);
    assert.equal(parsePathTemplate("/{x=**}").variables[0]!.multiSegment, true);
    assert.equal(t.multiAt, 2);
    assert.equal(g.multiAt, -1);

    // Literals after `**` (Cloud Search's `operations.lro.list`), beyond http.proto's grammar.
    const lro = parsePathTemplate("/v1/{name=operations/**}/lro");
    assert.deepEqual(lro.segments, [
      { kind: "literal", value: "v1" },
      { kind: "literal", value: "operations" },
      { kind: "multi" },
      { kind: "literal", value: "lro" },
    ]);
    assert.deepEqual(lro.variables, [{ fieldPath: ["name"], start: 1, end: 3, multiSegment: true }]);
    assert.equal(lro.endsWithMulti, false);
    assert.equal(lro.multiAt, 2);
    assert.equal(parsePathTemplate("/v1/{name=**/x/y}:go").multiAt, 1);
  });

  it("rejects invalid templates", () => {
    for (const bad of [
      "",
      "v1/x",
      "/",
      "/v1//x",
      "/v1/x/",
      "/v1/**/*",
      "/v1/**/x/*",
      "/v1/**/{a}",
      "/v1/{a=**}/**",
      "/v1/**/{a=**}",
      "/v1/{a={b}}",
      "/v1/{a",
      "/v1/{}",
      "/v1/{1a}",
      "/v1/{a.}",
      "/v1/{a}/{a}",
      "/v1/x:",
      "/v1/x:a/b",
      "/v1/{a=x:y}",
      "/v1/a}",
      "/v1/{a=}",
    ]) {
      assert.throws(() => parsePathTemplate(bad), PathTemplateError, `accepted ${JSON.stringify(bad)}`);
    }
  });

});

describe("paths against templates", () => {
  const parts = (path: string) => path.slice(1).split("/");
  const matches = (template: string, path: string) => {
    const t = parsePathTemplate(template);
    return matchParts(t, parts(path), fixedSegments(t), acceptUrlSegment);
  };

  it("matches request paths as the server does, `**` taking any non-empty segments", () => {
    assert.equal(matches("/v1/{name=operations/**}", "/v1/operations/a/b"), true);
    assert.equal(matches("/v1/{name=operations/**}", "/v1/operations"), true);
    assert.equal(matches("/v1/{name=operations/**}", "/v1/operations/a//b"), false);
    assert.equal(matches("/v1/{name=operations/**}/lro", "/v1/operations/a/lro"), true);
    assert.equal(matches("/v1/{name=operations/*}", "/v1/operations/a/b"), false);
    assert.equal(matches("/v1/{name=operations/*}", "/v1/%6Fperations/a"), true, "a literal may arrive percent-encoded");
  });

  it("binds variables, decoding all but a multi-segment variable's %2F", () => {
    const t = parsePathTemplate("/v1/{id}/{name=operations/**}");
    assert.deepEqual(variableValues(t, parts("/v1/e%2Ff/operations/a%2Fb/c%20d")), ["e/f", "operations/a%2Fb/c d"]);
  });

  it("checks a client's values and expands the template, keeping a multi-segment variable's slashes", () => {
    const t = parsePathTemplate("/v1/{name=operations/**}:wait");
    assert.equal(valueFits(t, t.variables[0]!, "operations/a//b"), true, "the client leaves empty parts to the server");
    assert.equal(valueFits(t, t.variables[0]!, "jobs/a"), false);
    assert.equal(expandPath(t, ["operations/a b/c"]), "/v1/operations/a%20b/c:wait");
    assert.equal(expandPath(parsePathTemplate("/v1/*/{name}"), ["x"]), undefined, "a wildcard outside a variable");
  });
});
