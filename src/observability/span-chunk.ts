import type { Attributes, Link, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";

/**
 * Spans handed to the export thread together (span-thread.ts), written as they end into two columns that
 * cost the hand-over little: their numbers into a Float64Array whose memory is transferred (not copied),
 * their strings as indexes into the chunk's strings, where each name, key and value is once a chunk (only
 * ids differ from span to span). The structured clone of spans as arrays and objects costs a step per value
 * and per container, on both threads; and a written span keeps nothing of the SDK's objects: they are
 * garbage as soon as it ends.
 * otlp-thread.js `unpack` reads it back.
 *
 * Each span in `numbers`: its form (PACKED, or CLONED for a span with events, links or array attribute
 * values, given whole in `cloned`), then for a packed span: trace flags, whether the parent is remote (1,
 * 0, or 2 for no answer), kind, start and end (seconds, nanoseconds each), status code, the dropped
 * attributes, events and links, the indexes of its scope and resource, and of its trace id, span id, trace
 * state, parent span id, name and status message in `strings` (-1 for none), its attribute count, then for
 * each attribute its key's index, its type (STRING, NUMBER, TRUE, FALSE) and, for a string, the value's
 * index, for a number, the number.
 */
export const PACKED = 0;
export const CLONED = 1;
const STRING = 0;
const NUMBER = 1;
const TRUE = 2;
const FALSE = 3;
const NO_ANSWER = 2;
const ABSENT = -1;
/** Numbers a packed span takes before its attributes; each attribute takes at most three more. */
const FIXED_NUMBERS = 21;
/** longrun's spans have five or six attributes. */
const TYPICAL_ATTRIBUTES = 6;

/**
 * One span as plain data (structured clone, no class instance), for what the columns do not hold: trace
 * id, span id, trace flags, trace state (serialized), parent span id, whether the parent is remote, name,
 * kind, start and end (seconds and nanoseconds), attributes, status code and message, events, links, the
 * dropped attributes, events and links, and indexes into the chunk's scopes and resources.
 * otlp-thread.js reads it in this order, and turns packed spans into it.
 */
export type CompactSpan = [
  traceId: string,
  spanId: string,
  traceFlags: number,
  traceState: string | undefined,
  parentSpanId: string | undefined,
  parentIsRemote: boolean | undefined,
  name: string,
  kind: SpanKind,
  startSeconds: number,
  startNanos: number,
  endSeconds: number,
  endNanos: number,
  attributes: Attributes,
  statusCode: SpanStatusCode,
  statusMessage: string | undefined,
  events: TimedEvent[] | undefined,
  links: CompactLink[] | undefined,
  droppedAttributes: number,
  droppedEvents: number,
  droppedLinks: number,
  scope: number,
  resource: number,
];

interface CompactLink {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: string | undefined;
  isRemote: boolean | undefined;
  attributes: Attributes | undefined;
  droppedAttributesCount: number | undefined;
}

/** What is posted to the thread: each resource and scope once, the spans pointing at them. */
export interface ChunkMessage {
  resources: [Attributes, string | undefined][];
  scopes: { name: string; version?: string | undefined; schemaUrl?: string | undefined }[];
  numbers: Float64Array;
  /** How many of `numbers` are written. */
  length: number;
  strings: string[];
  cloned: CompactSpan[];
}

export class SpanChunk {
  /** Spans written. */
  count = 0;
  #numbers: Float64Array;
  #length = 0;
  #strings: string[] = [];
  /** Where each string other than an id is in `#strings`. */
  #stringIndex = new Map<string, number>();
  #cloned: CompactSpan[] = [];
  #resources: ChunkMessage["resources"] = [];
  #scopes: ChunkMessage["scopes"] = [];
  #resourceIndex = new Map<ReadableSpan["resource"], number>();
  #scopeIndex = new Map<ReadableSpan["instrumentationScope"], number>();

  /** `expected`: spans a chunk usually holds (the columns grow past it if need be). */
  constructor(expected: number) {
    this.#numbers = new Float64Array(expected * (FIXED_NUMBERS + 3 * TYPICAL_ATTRIBUTES));
  }

  add(span: ReadableSpan): void {
    const scope = this.#scopeOf(span);
    const resource = this.#resourceOf(span);
    this.count++;
    if (span.events.length > 0 || span.links.length > 0 || !this.#pack(span, scope, resource)) {
      this.#ensure(1);
      this.#numbers[this.#length++] = CLONED;
      this.#cloned.push(compact(span, scope, resource));
    }
  }

  /** The chunk as posted, and the memory to transfer with it; the chunk must not be written any more. */
  message(): { message: ChunkMessage; transfer: ArrayBuffer[] } {
    const numbers = this.#numbers;
    return {
      message: { resources: this.#resources, scopes: this.#scopes, numbers, length: this.#length, strings: this.#strings, cloned: this.#cloned },
      transfer: [numbers.buffer as ArrayBuffer],
    };
  }

  /** Writes the span packed; false (nothing written) if an attribute is not a string, number or boolean. */
  #pack(span: ReadableSpan, scope: number, resource: number): boolean {
    this.#ensure(FIXED_NUMBERS);
    const start = this.#length;
    let numbers = this.#numbers;
    let at = start;
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    const status = span.status;
    numbers[at++] = PACKED;
    numbers[at++] = context.traceFlags;
    numbers[at++] = parent?.isRemote === undefined ? NO_ANSWER : parent.isRemote ? 1 : 0;
    numbers[at++] = span.kind;
    numbers[at++] = span.startTime[0];
    numbers[at++] = span.startTime[1];
    numbers[at++] = span.endTime[0];
    numbers[at++] = span.endTime[1];
    numbers[at++] = status.code;
    numbers[at++] = span.droppedAttributesCount;
    numbers[at++] = span.droppedEventsCount;
    numbers[at++] = span.droppedLinksCount;
    numbers[at++] = scope;
    numbers[at++] = resource;
    numbers[at++] = this.#id(context.traceId);
    numbers[at++] = this.#id(context.spanId);
    numbers[at++] = this.#text(context.traceState?.serialize());
    numbers[at++] = this.#id(parent?.spanId);
    numbers[at++] = this.#text(span.name);
    numbers[at++] = this.#text(status.message);
    const countAt = at++;
    let count = 0;
    const attributes = span.attributes;
    for (const key in attributes) {
      const value = attributes[key];
      if (at + 3 > numbers.length) {
        this.#length = at;
        this.#ensure(3);
        numbers = this.#numbers;
      }
      if (typeof value === "string") {
        numbers[at++] = this.#text(key);
        numbers[at++] = STRING;
        numbers[at++] = this.#text(value);
      } else if (typeof value === "number") {
        numbers[at++] = this.#text(key);
        numbers[at++] = NUMBER;
        numbers[at++] = value;
      } else if (typeof value === "boolean") {
        numbers[at++] = this.#text(key);
        numbers[at++] = value ? TRUE : FALSE;
      } else {
        // The strings it added stay, unused.
        this.#length = start;
        return false;
      }
      count++;
    }
    numbers[countAt] = count;
    this.#length = at;
    return true;
  }

  /** An id's index in the strings: ids differ from span to span, so each goes in as it is, not looked up. */
  #id(value: string | undefined): number {
    return value === undefined ? ABSENT : this.#strings.push(value) - 1;
  }

  /** A name's, key's or value's index in the strings, where it is once a chunk. */
  #text(value: string | undefined): number {
    if (value === undefined) return ABSENT;
    let i = this.#stringIndex.get(value);
    if (i === undefined) this.#stringIndex.set(value, (i = this.#strings.push(value) - 1));
    return i;
  }

  /** Room for `more` numbers past those written. */
  #ensure(more: number): void {
    if (this.#length + more <= this.#numbers.length) return;
    const grown = new Float64Array(Math.max(this.#numbers.length * 2, this.#length + more));
    grown.set(this.#numbers.subarray(0, this.#length));
    this.#numbers = grown;
  }

  /** The index of the span's resource in the chunk, added once a chunk (the serializer groups spans by it). */
  #resourceOf(span: ReadableSpan): number {
    let resource = this.#resourceIndex.get(span.resource);
    if (resource === undefined) {
      resource = this.#resources.push([span.resource.attributes, span.resource.schemaUrl]) - 1;
      this.#resourceIndex.set(span.resource, resource);
    }
    return resource;
  }

  /** The index of the span's instrumentation scope in the chunk, added once a chunk. */
  #scopeOf(span: ReadableSpan): number {
    let scope = this.#scopeIndex.get(span.instrumentationScope);
    if (scope === undefined) {
      const { name, version, schemaUrl } = span.instrumentationScope;
      scope = this.#scopes.push({ name, version, schemaUrl }) - 1;
      this.#scopeIndex.set(span.instrumentationScope, scope);
    }
    return scope;
  }
}

/** The span as plain data, pointing at its chunk's resource and scope. */
function compact(span: ReadableSpan, scope: number, resource: number): CompactSpan {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  return [
    context.traceId,
    context.spanId,
    context.traceFlags,
    context.traceState?.serialize(),
    parent?.spanId,
    parent?.isRemote,
    span.name,
    span.kind,
    span.startTime[0],
    span.startTime[1],
    span.endTime[0],
    span.endTime[1],
    span.attributes,
    span.status.code,
    span.status.message,
    span.events.length === 0 ? undefined : span.events,
    span.links.length === 0 ? undefined : span.links.map(compactLink),
    span.droppedAttributesCount,
    span.droppedEventsCount,
    span.droppedLinksCount,
    scope,
    resource,
  ];
}

function compactLink(link: Link): CompactLink {
  const { traceId, spanId, traceFlags, traceState, isRemote } = link.context;
  return { traceId, spanId, traceFlags, traceState: traceState?.serialize(), isRemote, attributes: link.attributes, droppedAttributesCount: link.droppedAttributesCount };
}
