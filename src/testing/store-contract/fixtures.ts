/**
 * What the store contract's tests are made of: a fixed clock, the test methods, bytes and Anys of known
 * content, and the one operation shape most tests start from.
 */
import assert from "node:assert/strict";
import { buildFilterSchema, compileFilter, type FilterExpr } from "../../filter/index.js";
import { SleepMetadataSchema } from "../../gen/longrun/demo/v1/demo_pb.js";
import type { NewOperation, OperationRecord, OperationRef, StoredAny, StoredError } from "../../store/store.js";

/** A fixed, realistic clock origin: tests move time explicitly from here. */
export const T = 1_700_000_000_000;
export const SLEEP = "longrun.test.v1.Test.Sleep";
export const FAIL = "longrun.test.v1.Test.Fail";
export const LEASE = 30_000;
export const RETENTION = 60_000;

export const bytes = (...values: number[]) => new Uint8Array(values);
export const anyOf = (typeUrl: string, ...values: number[]): StoredAny => ({ typeUrl, value: bytes(...values) });
export const RESPONSE = anyOf("type.googleapis.com/longrun.test.v1.SleepResponse", 8, 1);
export const ERROR: StoredError = { code: 9, message: "bad", status: bytes(8, 9, 18, 3, 98, 97, 100) };
/** Metadata of the demo's type, as the runtime stores it: bytes, and JSON for filtering. */
export const META_URL = "type.googleapis.com/longrun.demo.v1.SleepMetadata";
export const meta = (json: object): StoredAny => ({ typeUrl: META_URL, value: bytes(8, 1), json: JSON.stringify(json) });
const SCHEMA = buildFilterSchema([SleepMetadataSchema]);

/** A typed filter over the fixed fields and the demo's metadata. */
export function filter(text: string): FilterExpr {
  const compiled = compileFilter(text, SCHEMA);
  assert.ok(compiled, `${JSON.stringify(text)} should not be empty`);
  return compiled;
}

/** A new operation of the contract's test method, claimable at T unless overridden. */
export function newOp(id: string, overrides: Partial<NewOperation> = {}): NewOperation {
  return {
    id,
    name: `operations/${id}`,
    parent: "",
    method: SLEEP,
    requestId: undefined,
    request: bytes(10, 2, 49, 115),
    metadata: undefined,
    runAfter: T,
    ...overrides,
  };
}

/** The refs (id and name, as newOp names them) of operations to cancel or control. */
export function refs(...ids: string[]): OperationRef[] {
  return ids.map((id) => ({ id, name: `operations/${id}` }));
}

/** Stores may hand back Buffers or other Uint8Array subclasses: compare bytes, not classes. */
export function plain(record: OperationRecord | undefined): OperationRecord | undefined {
  if (record === undefined) return undefined;
  const copy = (b: Uint8Array) => new Uint8Array(b);
  const copyAny = (a: StoredAny | undefined) => (a === undefined ? undefined : { typeUrl: a.typeUrl, value: copy(a.value) });
  return {
    ...record,
    request: copy(record.request),
    metadata: copyAny(record.metadata),
    error: record.error === undefined ? undefined : { code: record.error.code, message: record.error.message, status: copy(record.error.status) },
    response: copyAny(record.response),
  };
}

export function ids(records: readonly ({ id: string } | undefined)[]): (string | undefined)[] {
  return records.map((r) => r?.id);
}
