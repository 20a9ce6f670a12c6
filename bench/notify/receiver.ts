/**
 * The notify benchmark's webhook receiver, in a process of its own (so that the load generator does not
 * take its CPU, nor it the generator's): a node:http server answering every POST 204, recording per
 * request the time it answered (Date.now(), the same clock as the server's publishTime on this machine),
 * the envelope's publishTime, messageId (the event id) and operationName. Records go to the JSON lines file
 * named by argv[2], buffered; the parent learns the port over IPC and sends "stop" to have the file
 * flushed and the process exit.
 *
 *   node --import tsx bench/notify/receiver.ts <records.jsonl>
 */
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";

/**
 * One request as recorded: t = answered (ms since epoch), p = publishTime (ms), id = messageId, op =
 * operationName; bare = posted to /bare by the load generator (the bare variant), not by a server.
 */
export interface ReceiverRecord {
  t: number;
  p: number;
  id: string;
  op: string;
  bare?: true;
}

const path = process.argv[2];
if (!path) throw new Error("usage: receiver.ts <records.jsonl>");
const out = createWriteStream(path);
let bad = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      const { message } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        message: { messageId: string; publishTime: string; attributes: Record<string, string> };
      };
      const record: ReceiverRecord = { t: Date.now(), p: Date.parse(message.publishTime), id: message.messageId, op: message.attributes["operationName"] ?? "" };
      if (req.url === "/bare") record.bare = true;
      out.write(JSON.stringify(record) + "\n");
      res.writeHead(204).end();
    } catch {
      bad++;
      res.writeHead(400).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ kind: "listening", port: typeof address === "object" && address ? address.port : 0 });
});

process.on("message", (message: { kind: string }) => {
  if (message.kind !== "stop") return;
  server.closeAllConnections();
  server.close();
  out.end(() => {
    process.send?.({ kind: "stopped", bad }, () => process.exit(0));
  });
});
