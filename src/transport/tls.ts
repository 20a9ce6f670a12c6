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
