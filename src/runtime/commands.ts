import { Code } from "../core/code.js";
import { notFound, Reason, RpcError } from "../core/errors.js";
import type { OperationRecord, OperationRef, Store } from "../store/store.js";
import { Batcher } from "./batch.js";
import type { Clock } from "./clock.js";
import type { MethodRegistry } from "./registry.js";
import { cancelledStatus, encodeError } from "./status.js";
import type { ResultWriter } from "./writer.js";

export interface OperationCommandsOptions {
  store: Store;
  clock: Clock;
  methods: MethodRegistry;
  writer: ResultWriter;
}

/**
 * What clients ask of an existing operation — cancel it, or send it a control command — recorded in the
 * store, which announces it on the change feed to whichever instance runs the operation.
 */
export class OperationCommands {
  private readonly cancels: Batcher<OperationRef, OperationRecord | undefined>;

  constructor(private readonly options: OperationCommandsOptions) {
    // Concurrent cancellations share one statement: each its own would queue on the connection pool.
    this.cancels = new Batcher((operations) => options.store.requestCancel(operations, options.clock.now()));
  }

  /**
   * Requests cancellation: a queued operation ends at once with CANCELLED; a running one has its
   * handler's signal fired (here or on whichever instance runs it); a done one is left as it is. The
   * store marks the operation only if it has both this id and this name (authorization checked the
   * name's parent): an id under another name is NOT_FOUND and left untouched.
   */
  async cancel(id: string, name: string): Promise<void> {
    const record = await this.cancels.add({ id, name });
    if (!record) throw notFound(name);
    if (record.state !== "queued") return;
    const now = this.options.clock.now();
    const codec = this.options.methods.get(record.method)?.codec;
    const metadata = codec ? codec.encode(codec.final(codec.decode(record.metadata, now), now, true)) : record.metadata;
    // Fenced on the attempt read while queued: if a worker claimed it meanwhile, this finish is refused
    // and the cancel-requested event reaches that worker instead.
    await this.options.writer.finish({ id, name, method: record.method, principal: record.principal, resource: record.resource, attempt: record.attempt, metadata, error: encodeError(cancelledStatus()) });
  }

  /**
   * Requests control command `command` (a custom method on operations, e.g. "pause"): recorded as the
   * operation's last command and delivered to its handler wherever it runs (or when it starts, if queued).
   * An operation that is done cannot be controlled: FAILED_PRECONDITION. Like cancel, it applies only to
   * the operation of both this id and this name: otherwise NOT_FOUND, nothing recorded.
   */
  async control(id: string, name: string, command: string): Promise<OperationRecord> {
    const [record] = await this.options.store.requestControl([{ id, name }], command, this.options.clock.now());
    if (!record) throw notFound(name);
    if (record.state === "done") {
      throw new RpcError(Code.FAILED_PRECONDITION, `Operation "${name}" is done; it cannot be sent "${command}".`, {
        reason: Reason.OPERATION_DONE,
        metadata: { name, command },
      });
    }
    return record;
  }
}
