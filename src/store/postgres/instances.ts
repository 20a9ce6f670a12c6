import { randomInt } from "node:crypto";
import type pg from "pg";
import { clientDb } from "./db.js";
import type { CompiledOptions } from "./options.js";
import { registerInstance } from "./register-instance.js";

/**
 * The lease owners this store claims for, each registered alive (register-instance.ts) on the LISTEN
 * connection's current session: before an owner's first claim, and again on every new session after a
 * reconnect, since the old session's lock went with it. While a session is being re-established the owners
 * are unregistered and another instance may end their leases (expire-dead-leases.ts): fencing refuses the
 * old attempts' late writes, and their handlers learn at the next heartbeat that the lease is gone
 * (docs/reliability.md, "Dead instances").
 */
export class Instances {
  readonly #options: CompiledOptions;
  /** Owner → its lock key: one per owner for the store's life, so a re-registration keeps it. */
  readonly #keys = new Map<string, number>();
  /** Owner → the session it is registered on (a stale one after a reconnect, until re-registered). */
  readonly #registeredOn = new Map<string, pg.Client>();
  #client: pg.Client | undefined;

  constructor(options: CompiledOptions) {
    this.#options = options;
  }

  /** A new LISTEN session (the first, or after a reconnect): registers every known owner on it. */
  async connected(client: pg.Client): Promise<void> {
    this.#client = client;
    for (const owner of this.#keys.keys()) await this.#register(client, owner);
  }

  /**
   * Resolves once `owner` is registered on the current session, or at once when it already is (the path
   * of every claim but the first). A failure is logged, not thrown: the claim goes on, its leases then
   * expire the slow way unless the next session registers the owner first.
   */
  ensure(owner: string): Promise<void> | undefined {
    const client = this.#client;
    if (client !== undefined && this.#registeredOn.get(owner) === client) return undefined;
    if (!this.#keys.has(owner)) this.#keys.set(owner, randomInt(2 ** 31));
    if (client === undefined) return undefined;
    return this.#register(client, owner).catch((error: unknown) =>
      this.#options.log(`longrun: registering lease owner ${owner} failed (its leases will expire the slow way if it dies)`, error),
    );
  }

  async #register(client: pg.Client, owner: string): Promise<void> {
    if (this.#registeredOn.get(owner) === client) return;
    await registerInstance(clientDb(this.#options, client), owner, this.#keys.get(owner)!, Date.now());
    this.#registeredOn.set(owner, client);
  }
}
