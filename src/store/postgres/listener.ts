import pg from "pg";

export interface ListenerOptions {
  /** Settings of the dedicated connection (not from the pool: LISTEN belongs to one session). */
  client: pg.ClientConfig;
  channel: string;
  /** Each notification's payload on the channel. */
  onNotification(payload: string): void;
  /** Listening again after the connection was lost: notifications sent in between are gone. */
  onReconnect(): void;
  /**
   * Run on each new connection once it LISTENs, before it is taken as connected: what must live exactly as
   * long as this session (the instance locks, instances.ts). Failing it fails the connection attempt.
   */
  onConnect?(client: pg.Client): Promise<void>;
  log(message: string, err?: unknown): void;
  /** @default 100 */
  minDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
}

/**
 * The LISTEN side of the change feed: one connection of its own that LISTENs on the channel and, when it
 * fails or ends, reconnects with capped exponential backoff (100 ms doubling to 5 s by default) until
 * `close()`. Notifications are only a latency hint, so losing some is survivable: after each reconnect
 * `onReconnect` tells the store to have its listeners re-check everything (a "resync" event).
 */
export class Listener {
  readonly #options: ListenerOptions;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  #client: pg.Client | undefined;
  #delayMs: number;
  #timer: NodeJS.Timeout | undefined;
  #connecting: Promise<unknown> | undefined;
  #closed = false;

  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#minDelayMs = options.minDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 5000;
    this.#delayMs = this.#minDelayMs;
  }

  /** Connects and LISTENs; fails if it cannot (no retry: opening the store fails instead). */
  async start(): Promise<void> {
    const connecting = this.#connect();
    this.#connecting = connecting;
    try {
      this.#adopt(await connecting);
    } finally {
      this.#connecting = undefined;
    }
  }

  /** Stops reconnecting and ends the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    await this.#connecting?.catch(() => {}); // a reconnect in flight ends its own client, seeing #closed
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client(this.#options.client);
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, undefined));
    client.on("notification", (message) => {
      if (client === this.#client && message.channel === this.#options.channel && message.payload !== undefined) {
        this.#options.onNotification(message.payload);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
      await this.#options.onConnect?.(client);
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  #adopt(client: pg.Client): void {
    if (this.#closed) {
      void client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#delayMs = this.#minDelayMs;
  }

  /** The current connection failed or ended: drop it and schedule a reconnect. */
  #lost(client: pg.Client, error: Error | undefined): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = undefined;
    this.#options.log(`longrun: the store's LISTEN connection was lost (${error?.message ?? "ended"}); reconnecting`);
    void client.end().catch(() => {});
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const delayMs = this.#delayMs;
    this.#delayMs = Math.min(this.#maxDelayMs, this.#delayMs * 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const connecting = this.#connect();
      this.#connecting = connecting;
      connecting.then(
        (client) => {
          this.#connecting = undefined;
          this.#adopt(client);
          if (this.#closed) return;
          this.#options.log("longrun: the store's LISTEN connection is back; listeners resync");
          this.#options.onReconnect();
        },
        (error: unknown) => {
          this.#connecting = undefined;
          if (this.#closed) return;
          this.#options.log(
            `longrun: reconnecting the store's LISTEN connection failed (${error instanceof Error ? error.message : String(error)}); ` +
              `retrying in ${this.#delayMs} ms`,
          );
          this.#schedule();
        },
      );
    }, delayMs);
    this.#timer.unref();
  }
}
