/**
 * A bearer token, or a function giving one. The function is asked before every attempt of every call, so
 * it can hand out a fresh token when the last one nears its expiry (and cache it meanwhile).
 */
export type TokenSource = string | (() => string | Promise<string>);

/** What the client presents to the server on every call (the server decides what it accepts). */
export interface ClientCredentials {
  /** Sent as `x-goog-api-key`. */
  apiKey?: string;
  /** Sent as `authorization: Bearer <token>`. */
  token?: TokenSource;
}

/** TLS material of the client, PEM: a CA to trust instead of the system's, and a client certificate for mutual TLS. */
export interface ClientTls {
  /** The CA bundle the server's certificate must chain to. @default the system's CAs */
  ca?: string | Buffer;
  /** The client certificate chain (mutual TLS); goes with `key`. */
  cert?: string | Buffer;
  /** The client certificate's private key; goes with `cert`. */
  key?: string | Buffer;
}

/**
 * Checks credentials once, when the client is built, so a bad key fails at construction rather than at
 * the first call. Messages name the option, never its value.
 */
export function checkCredentials(credentials: ClientCredentials): void {
  if (credentials.apiKey !== undefined) headerValue(credentials.apiKey, "apiKey");
  if (typeof credentials.token === "string") headerValue(credentials.token, "token");
}

export function checkClientTls(tls: ClientTls | undefined): void {
  if (tls === undefined) return;
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("tls.cert and tls.key go together: a client certificate and its private key");
  }
}

/** Whether `tls` carries material a default TLS connection lacks (a CA, a client certificate). */
export function hasTlsMaterial(tls: ClientTls | undefined): tls is ClientTls {
  return tls !== undefined && (tls.ca !== undefined || tls.cert !== undefined);
}

/** The headers (gRPC: metadata) carrying the credentials of one attempt; a token function is asked now. */
export async function credentialHeaders(credentials: ClientCredentials): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (credentials.apiKey !== undefined) headers["x-goog-api-key"] = headerValue(credentials.apiKey, "apiKey");
  if (credentials.token !== undefined) {
    const token = typeof credentials.token === "string" ? credentials.token : await credentials.token();
    headers["authorization"] = `Bearer ${headerValue(token, "token")}`;
  }
  return headers;
}

/**
 * The value as is, when it can travel as a header. fetch and grpc-js would refuse a bad one too, but with
 * the value in their message, and that message would end up in logs.
 */
function headerValue(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^[\x21-\x7e]+$/.test(value)) {
    throw new TypeError(`the ${what} is not usable as a header value (it must be a non-empty string of visible ASCII characters)`);
  }
  return value;
}
