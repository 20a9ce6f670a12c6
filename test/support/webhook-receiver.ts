import http from "node:http";
import type { AddressInfo } from "node:net";

/** One POST the receiver got. */
export interface Received {
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The status it was answered with (undefined: never answered). */
  status: number | undefined;
}

/** A real HTTP server on loopback recording every request, answering with what `answer` says. */
export interface WebhookReceiver {
  url: string;
  port: number;
  received: Received[];
  /** The status for a request (200 by default); `undefined` leaves it unanswered until close. */
  answer: (body: string) => number | undefined;
  close(): Promise<void>;
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const hanging = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = {
    url: "",
    port: 0,
    received: [],
    answer: () => 200,
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      const status = receiver.answer(body);
      receiver.received.push({ body, headers: req.headers, status });
      if (status === undefined) {
        hanging.add(res);
        return;
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** The Pub/Sub push envelope of a received request, with its data decoded. */
export function envelopeOf(r: Received): { attributes: Record<string, string>; messageId: string; publishTime: string; operation: Record<string, unknown> | undefined } {
  const { message } = JSON.parse(r.body) as { message: { attributes: Record<string, string>; messageId: string; publishTime: string; data?: string } };
  return {
    attributes: message.attributes,
    messageId: message.messageId,
    publishTime: message.publishTime,
    operation: message.data === undefined ? undefined : (JSON.parse(Buffer.from(message.data, "base64").toString()) as Record<string, unknown>),
  };
}
