/**
 * The watch benchmark's SSE clients, in a process of their own (so that their CPU and the load generator's
 * are apart, and neither takes the other's turn on the event loop): N plain node:http GETs of
 * `/v1/operations:watch`, each parsing its text/event-stream and keeping, per operation name, when it first
 * heard of it (performance.timeOrigin + performance.now() when the chunk arrived: the same wall clock as
 * the load generator's, to well under a millisecond on one machine). The parent drives it over IPC
 * (advanced serialization, so the times come back as Float64Arrays):
 *
 *   { kind: "open", count }  → opens the streams; answers { kind: "opened" } once each has its first line
 *   { kind: "close" }        → ends them; answers { kind: "closed", report: StreamsReport }
 *   { kind: "exit" }         → exits
 *
 *   node --import tsx bench/watch/streams.ts <http://host:port/v1/operations:watch>
 */
import http from "node:http";

/** What the streams saw between "open" and "close". */
export interface StreamsReport {
  /** Every operation name any stream heard of; `seen[s][i]` is when stream s first heard of `names[i]` (NaN: never). */
  names: string[];
  seen: Float64Array[];
  /** Per stream: `event: changes` received, those with resync: true, bytes of body read, whether it ended before "close". */
  events: number[];
  resyncs: number[];
  bytes: number[];
  endedEarly: boolean[];
  /** Events whose data was not JSON of the documented shape. */
  malformed: number;
}

const url = process.argv[2];
if (!url) throw new Error("usage: streams.ts <watch URL>");

const now = (): number => performance.timeOrigin + performance.now();

interface Stream {
  request: http.ClientRequest;
  /** First time heard, by name index (undefined: not yet). */
  first: number[];
  events: number;
  resyncs: number;
  bytes: number;
  ended: boolean;
}

let streams: Stream[] = [];
let names: string[] = [];
let index = new Map<string, number>();
let malformed = 0;
let closing = false;

function open(count: number): Promise<void> {
  names = [];
  index = new Map();
  malformed = 0;
  closing = false;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const opened: Promise<void>[] = [];
  streams = [];
  for (let s = 0; s < count; s++) {
    opened.push(
      new Promise<void>((resolve, reject) => {
        const request = http.get(url!, { agent, headers: { accept: "text/event-stream" } });
        const stream: Stream = { request, first: [], events: 0, resyncs: 0, bytes: 0, ended: false };
        streams.push(stream);
        request.on("error", (err) => {
          stream.ended = true;
          if (!closing) reject(err);
        });
        request.on("response", (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
            res.resume();
            return;
          }
          res.setEncoding("utf8");
          let buffered = "";
          let started = false;
          res.on("data", (chunk: string) => {
            const t = now();
            stream.bytes += Buffer.byteLength(chunk);
            buffered += chunk;
            let end: number;
            // One event (or comment, or the retry line) per blank-line-terminated block.
            while ((end = buffered.indexOf("\n\n")) >= 0) {
              const block = buffered.slice(0, end);
              buffered = buffered.slice(end + 2);
              if (!started) {
                started = true;
                resolve();
              }
              heard(stream, block, t);
            }
          });
          res.on("end", () => void (stream.ended = true));
          res.on("error", () => void (stream.ended = true));
        });
      }),
    );
  }
  return Promise.all(opened).then(() => undefined);
}

function heard(stream: Stream, block: string, t: number): void {
  let event = "message";
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += (data === "" ? "" : "\n") + line.slice(line.startsWith("data: ") ? 6 : 5);
  }
  if (event !== "changes" || data === "") return;
  stream.events++;
  let changes: { changed?: unknown; resync?: unknown };
  try {
    changes = JSON.parse(data) as typeof changes;
  } catch {
    malformed++;
    return;
  }
  if (!Array.isArray(changes.changed) || typeof changes.resync !== "boolean") {
    malformed++;
    return;
  }
  if (changes.resync) stream.resyncs++;
  for (const name of changes.changed as string[]) {
    let i = index.get(name);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      index.set(name, i);
    }
    if (stream.first[i] === undefined) stream.first[i] = t;
  }
}

function close(): StreamsReport {
  closing = true;
  const endedEarly = streams.map((s) => s.ended);
  for (const s of streams) s.request.destroy();
  const seen = streams.map((s) => {
    const times = new Float64Array(names.length).fill(Number.NaN);
    s.first.forEach((t, i) => (times[i] = t));
    return times;
  });
  const report: StreamsReport = {
    names,
    seen,
    events: streams.map((s) => s.events),
    resyncs: streams.map((s) => s.resyncs),
    bytes: streams.map((s) => s.bytes),
    endedEarly,
    malformed,
  };
  streams = [];
  return report;
}

process.on("message", (message: { kind: string; count?: number }) => {
  if (message.kind === "open") {
    open(message.count ?? 0).then(
      () => process.send?.({ kind: "opened" }),
      (err: unknown) => process.send?.({ kind: "error", message: String(err) }),
    );
  } else if (message.kind === "close") {
    process.send?.({ kind: "closed", report: close() });
  } else if (message.kind === "exit") {
    process.exit(0);
  }
});
process.send?.({ kind: "ready" });
