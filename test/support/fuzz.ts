import http from "node:http";
import net from "node:net";

/**
 * Helpers for robustness tests: a seeded PRNG (so a failing run reproduces from its seed), bounded
 * concurrency, a raw HTTP/1.1 client that sends paths exactly as given (no URL normalisation), and a
 * raw-socket exchange for requests no HTTP client would send.
 */

/** The seed of this run: `LONGRUN_FUZZ_SEED` if set, else a fresh random one (print it!). */
export function fuzzSeed(): number {
  const fromEnv = process.env["LONGRUN_FUZZ_SEED"];
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`LONGRUN_FUZZ_SEED must be a uint32, got ${fromEnv}`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/** mulberry32: small, fast, good enough to pick test inputs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `length` characters drawn from `alphabet` (a string or a list of code-point strings). */
  string(length: number, alphabet: string | readonly string[]): string {
    const chars = typeof alphabet === "string" ? [...alphabet] : alphabet;
    let s = "";
    for (let i = 0; i < length; i++) s += this.pick(chars);
    return s;
  }

  bytes(length: number): Buffer {
    const b = Buffer.alloc(length);
    for (let i = 0; i < length; i++) b[i] = this.int(0, 255);
    return b;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP/1.1 request with the path sent byte for byte as given (no dot-segment removal, no re-encoding).
 * Rejects on a connection error or when no complete answer came within `timeoutMs` (a hang).
 */
export function httpRequest(
  baseUrl: string,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
  timeoutMs = 10_000,
): Promise<HttpResult> {
  const base = new URL(baseUrl);
  return new Promise<HttpResult>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, result?: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    };
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        // Node frames a GET/DELETE body only when told its length.
        headers: request.body === undefined ? request.headers : { "content-length": String(Buffer.byteLength(request.body)), ...request.headers },
        agent: keepAliveAgent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (e) => done(e));
      },
    );
    const timer = setTimeout(() => {
      done(new Error(`no answer within ${timeoutMs} ms (hang?)`));
      req.destroy();
    }, timeoutMs);
    // A server that answers early (an oversized body) may close while we are still writing: only an error
    // before the response counts.
    req.on("error", (e) => done(e));
    if (request.body !== undefined) req.end(request.body);
    else req.end();
  });
}

const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** Closes the pooled connections of httpRequest (call in `after`). */
export function closeHttpAgent(): void {
  keepAliveAgent.destroy();
}

export type RawStep = Buffer | string | { delayMs: number } | { end: true } | { destroy: true };

export interface RawResult {
  /** Everything the server sent. */
  data: Buffer;
  /** The status codes of every HTTP response found in `data`, in order. */
  statuses: number[];
  /** Whether the server closed the connection (rather than us giving up). */
  closedByServer: boolean;
  /** A socket error seen (ECONNRESET, EPIPE...), if any. */
  error: string | undefined;
}

/**
 * Talks to host:port over a plain TCP socket: runs the steps (write bytes, pause, half-close, destroy),
 * then collects what the server sends until it closes the connection or stays silent for `idleMs`
 * (or `maxMs` in all). Writes after the server closed are skipped, not errors.
 */
export function rawExchange(
  port: number,
  steps: readonly RawStep[],
  options: { idleMs?: number; maxMs?: number; host?: string } = {},
): Promise<RawResult> {
  const idleMs = options.idleMs ?? 300;
  const maxMs = options.maxMs ?? 5_000;
  return new Promise<RawResult>((resolve) => {
    const socket = net.connect({ host: options.host ?? "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let gone = false;
    let error: string | undefined;
    let idle: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      clearTimeout(overall);
      socket.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, statuses: statusesOf(data), closedByServer, error });
    };
    const armIdle = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, idleMs);
    };
    const overall = setTimeout(finish, maxMs);
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      armIdle();
    });
    socket.on("end", () => {
      closedByServer = true;
      gone = true;
      finish();
    });
    socket.on("close", () => {
      gone = true;
      finish();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      gone = true;
    });
    socket.once("connect", () => {
      void (async () => {
        for (const step of steps) {
          if (gone || finished) return;
          if (typeof step === "string" || Buffer.isBuffer(step)) {
            await new Promise<void>((r) => socket.write(step, () => r()));
          } else if ("delayMs" in step) {
            await new Promise((r) => setTimeout(r, step.delayMs));
          } else if ("end" in step) {
            socket.end();
          } else {
            socket.destroy();
            finish();
            return;
          }
        }
        armIdle();
      })();
    });
  });
}

function statusesOf(data: Buffer): number[] {
  const text = data.toString("latin1");
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
