import { execFileSync } from "node:child_process";
import { makeCertificates } from "../support/certificates.js";

/**
 * The PKI of support/certificates.ts as the client and CLI tests read it: Buffers, and the files under `dir`
 * (ca.pem, server.pem, server.key, client.pem, client.key, other-ca.pem). The client certificate's CN is
 * `worker-1`.
 */
export interface TestPki {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A CA that signed nothing the server trusts: trusting it alone must fail. */
  otherCa: Buffer;
  remove(): Promise<void>;
}

/** Whether the openssl CLI is there to make certificates with (the TLS tests are skipped without it). */
export function haveOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function makeTestPki(): Promise<TestPki> {
  const certs = await makeCertificates({ clientCommonName: "worker-1" });
  return {
    dir: certs.dir,
    ca: Buffer.from(certs.caPem),
    serverCert: Buffer.from(certs.serverCertPem),
    serverKey: Buffer.from(certs.serverKeyPem),
    clientCert: Buffer.from(certs.clientCertPem),
    clientKey: Buffer.from(certs.clientKeyPem),
    otherCa: Buffer.from(certs.otherCaPem),
    remove: () => certs.remove(),
  };
}
