import https from "node:https";

/** The part of `fetch` the REST transport calls. */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}
export type Fetch = (url: string, init: FetchInit) => Promise<Response>;

// A Response with a body and one of these statuses cannot be constructed.
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * `fetch` over node:https through the given Agent. Node's global fetch (undici) takes a custom CA or a
 * client certificate only through an undici Agent, which Node does not export; node:https takes them from
 * its own Agent. The answer is read whole before it resolves: the REST transport reads it whole anyway.
 */
export function agentFetch(agent: https.Agent): Fetch {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const request = https.request(url, { method: init.method, headers: init.headers, agent, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("close", () => {
          if (!res.complete) reject(new Error("the connection closed before the response was complete"));
        });
        res.on("end", () => {
          try {
            const status = res.statusCode ?? 0;
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
            }
            resolve(new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers }));
          } catch (err) {
            reject(err);
          }
        });
      });
      request.on("error", reject);
      request.end(init.body);
    });
}
