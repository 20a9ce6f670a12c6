import { ScalarType, create, fromBinary, toBinary, toJson, type Registry, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { StoredAny } from "../store/store.js";
import { typeUrlOf } from "../core/registry.js";
import { bytesKey, keepBounded } from "../core/kept.js";

/** Final metadata kept per millisecond (finalEncoded): more is a millisecond of many distinct starts. */
const MAX_KEPT_FINALS = 256;

/**
 * The metadata fields longrun fills in by itself when a method's metadata type declares them, following
 * google.cloud.common.OperationMetadata: `create_time`, `end_time` (google.protobuf.Timestamp) and
 * `cancel_requested` (bool). Handlers report the rest (progress) through ctx.progress.
 */
export class MetadataCodec {
  private readonly createTime: DescField | undefined;
  private readonly endTime: DescField | undefined;
  private readonly cancelRequested: DescField | undefined;
  readonly typeUrl: string;
  private lastInitial: { now: number; stored: StoredAny } | undefined;
  private readonly finals = new Map<string, StoredAny>();
  private finalsAt: number | undefined;

  constructor(
    readonly schema: DescMessage,
    private readonly registry: Registry,
  ) {
    this.typeUrl = typeUrlOf(schema);
    this.createTime = timestampField(schema, "create_time");
    this.endTime = timestampField(schema, "end_time");
    const cancel = schema.fields.find((f) => f.name === "cancel_requested");
    this.cancelRequested = cancel?.fieldKind === "scalar" && cancel.scalar === ScalarType.BOOL ? cancel : undefined;
  }

  initial(now: number): Message {
    const message = create(this.schema);
    if (this.createTime) set(message, this.createTime, timestampFromMs(now));
    return message;
  }

  /** The metadata with `partial` merged over it (shallow: fields given replace fields held). */
  merge(current: Message, partial: object): Message {
    const merged = create(this.schema, { ...current, ...partial } as never) as Message;
    // Fields longrun owns are not the handler's to overwrite.
    for (const f of [this.createTime, this.endTime, this.cancelRequested]) {
      if (f) set(merged, f, (current as unknown as Record<string, unknown>)[f.localName]);
    }
    return merged;
  }

  markCancelRequested(message: Message): Message {
    if (!this.cancelRequested) return message;
    const copy = create(this.schema, message as never) as Message;
    set(copy, this.cancelRequested, true);
    return copy;
  }

  final(message: Message, now: number, cancelRequested: boolean): Message {
    const copy = create(this.schema, message as never) as Message;
    if (this.endTime) set(copy, this.endTime, timestampFromMs(now));
    if (cancelRequested && this.cancelRequested) set(copy, this.cancelRequested, true);
    return copy;
  }

  /**
   * `encode(initial(now))`, kept for the last `now`: under load most starts share their millisecond with
   * another, and the encoding (JSON above all) is most of what a start's metadata costs. Stored values are
   * never changed in place, so operations may share one.
   */
  initialEncoded(now: number): StoredAny {
    if (this.lastInitial?.now !== now) this.lastInitial = { now, stored: this.encode(this.initial(now)) };
    return this.lastInitial.stored;
  }

  /**
   * `encode(final(decode(stored), now, cancelRequested))`, kept by the stored bytes for the current `now`:
   * operations started in one millisecond and ended in another, with no progress between, end with the
   * same metadata, and a batch of finishes is mostly such. Undefined when `stored` is not of this type
   * (decode would make the initial metadata of another time).
   */
  finalEncoded(stored: StoredAny | undefined, now: number, cancelRequested: boolean): StoredAny | undefined {
    if (stored === undefined || stored.typeUrl !== this.typeUrl) return undefined;
    if (now !== this.finalsAt) {
      this.finals.clear();
      this.finalsAt = now;
    }
    const { value } = stored;
    const key = `${cancelRequested ? 1 : 0}${bytesKey(value)}`;
    let encoded = this.finals.get(key);
    if (encoded === undefined) {
      encoded = this.encode(this.final(fromBinary(this.schema, value), now, cancelRequested));
      keepBounded(this.finals, key, encoded, MAX_KEPT_FINALS);
    }
    return encoded;
  }

  /** The stored form: binary for serving, and JSON by proto field names (defaults included) for filtering. */
  encode(message: Message): StoredAny {
    const json = toJson(this.schema, message, { registry: this.registry, useProtoFieldName: true, alwaysEmitImplicit: true });
    return { typeUrl: this.typeUrl, value: toBinary(this.schema, message), json: JSON.stringify(json) };
  }

  decode(stored: StoredAny | undefined, now: number): Message {
    if (!stored || stored.typeUrl !== this.typeUrl) return this.initial(now);
    return fromBinary(this.schema, stored.value);
  }
}

function timestampField(schema: DescMessage, name: string): DescField | undefined {
  const f = schema.fields.find((field) => field.name === name);
  return f?.fieldKind === "message" && f.message.typeName === "google.protobuf.Timestamp" ? f : undefined;
}

function set(message: Message, field: DescField, value: unknown): void {
  (message as unknown as Record<string, unknown>)[field.localName] = value;
}
