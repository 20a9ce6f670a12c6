import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway PKI for TLS tests: a CA, a server certificate for 127.0.0.1/localhost, a client certificate. */
export interface TestPki {
  /** The directory holding the PEM files (ca.pem, server.pem, server.key, client.pem, client.key, other-ca.pem). */
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A CA that signed nothing here: trusting it alone must fail. */
  otherCa: Buffer;
  remove(): void;
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

/** Makes the PKI with the openssl CLI (EC P-256 keys, valid one day). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "longrun-pki-"));
  const openssl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const makeCa = (name: string): void =>
    openssl("req", "-x509", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "1", "-subj", `/CN=longrun test ${name}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  const makeLeaf = (name: string, cn: string, extensions: string): void => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl("req", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  };
  makeCa("ca");
  makeCa("other-ca");
  makeLeaf("server", "localhost", "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  makeLeaf("client", "worker-1", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  const read = (file: string): Buffer => readFileSync(join(dir, file));
  return {
    dir,
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server.key"),
    clientCert: read("client.pem"),
    clientKey: read("client.key"),
    otherCa: read("other-ca.pem"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
