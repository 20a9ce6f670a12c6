import type { PeerCertificate as NodePeerCertificate } from "node:tls";
import type { PeerCertificate } from "../auth/credentials.js";

/** TLS for both transports: the server's certificate, and the CA of client certificates for mutual TLS. */
export interface TlsOptions {
  /** PEM certificate chain of the server. */
  cert: string | Buffer;
  /** PEM private key of the server. */
  key: string | Buffer;
  /**
   * PEM CA bundle of client certificates. When given, every connection must present a client certificate
   * signed by it (mutual TLS), and a call without API key or token is made as the certificate's principal.
   */
  clientCa?: string | Buffer;
}

/** grpc-js wants Buffers where node:tls takes strings too. */
export function pemBuffer(pem: string | Buffer): Buffer {
  return typeof pem === "string" ? Buffer.from(pem) : pem;
}

/**
 * The principal-naming parts of a client certificate the handshake verified. Call only for a verified
 * certificate (the socket's `authorized`): this function trusts what it is given. A certificate without
 * a single common name names no one: several CNs would make the principal depend on which one is read,
 * so such a certificate gives no credentials rather than a guess.
 */
export function certificateOf(peer: NodePeerCertificate | undefined): PeerCertificate | undefined {
  // node:tls answers `{}` when the peer sent no certificate.
  if (peer === undefined || typeof peer.fingerprint256 !== "string") return undefined;
  const commonName = peer.subject?.CN;
  if (typeof commonName !== "string" || commonName === "") return undefined;
  return { commonName, fingerprint256: peer.fingerprint256 };
}
