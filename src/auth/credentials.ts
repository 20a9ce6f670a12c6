/**
 * What a caller presented to prove who it is, as a transport found it: the same shape from gRPC metadata
 * and from HTTP headers, so one authenticator serves both. Nothing here is checked yet.
 */
export interface Credentials {
  /** An API key: `x-goog-api-key` (header or metadata), or `?key=` on REST. */
  readonly apiKey: string | undefined;
  /** The `authorization` header or metadata as sent (`Bearer <jwt>`). */
  readonly authorization: string | undefined;
  /**
   * The client certificate of an mutual-TLS connection, present only when the server asks for one and the
   * TLS handshake verified it against the configured client CA.
   */
  readonly certificate: PeerCertificate | undefined;
}

/** The parts of a verified client certificate a principal is named from. */
export interface PeerCertificate {
  /** The subject's common name (CN). */
  readonly commonName: string;
  /** SHA-256 fingerprint, colon-separated hex (as node:tls prints it). */
  readonly fingerprint256: string;
}

export const NO_CREDENTIALS: Credentials = Object.freeze({ apiKey: undefined, authorization: undefined, certificate: undefined });
