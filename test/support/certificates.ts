// Throwaway PKI for TLS tests, made with the `openssl` CLI at test time (no key material in the repository).
//
//     const certs = await makeCertificates();
//     after(() => certs.remove());
//     startGrpcServer({ ..., tls: { cert: certs.serverCertPem, key: certs.serverKeyPem, clientCa: certs.caPem } });
//     grpc.credentials.createSsl(Buffer.from(certs.caPem), Buffer.from(certs.clientKeyPem), Buffer.from(certs.clientCertPem));
//
// Two CAs: the test CA signs the server certificate and the good client certificate; another CA, which
// the server does not trust, signs a client certificate that must be refused. Keys are EC P-256 (made in
// milliseconds, unlike RSA). Certificates are valid for two days from now. Every file is also on disk
// under `dir` (see `files`), for tests that pass paths (a CLI's --tls-cert, say).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate and its private key, as PEM text and as files. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
}

export interface Certificates {
  /** The temporary directory holding every file below; `remove()` deletes it. */
  dir: string;
  /** The test CA (trust it as a client to verify the server, give it to the server as `clientCa`). */
  caPem: string;
  /** The server's certificate, for `127.0.0.1`, `::1` and `localhost`, signed by the test CA. */
  serverCertPem: string;
  serverKeyPem: string;
  /** A client certificate (CN `clientCommonName`), signed by the test CA. */
  clientCertPem: string;
  clientKeyPem: string;
  /** The client certificate's CN. */
  clientCommonName: string;
  /** A CA the server does not trust. */
  otherCaPem: string;
  /** A client certificate signed by the other CA: mutual TLS against `caPem` must refuse it. */
  otherCaClientCertPem: string;
  otherCaClientKeyPem: string;
  /** The same, as file paths under `dir`. */
  files: {
    ca: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    otherCa: string;
    otherCaClientCert: string;
    otherCaClientKey: string;
  };
  /** Another client certificate signed by the test CA (for tests that need several identities). */
  issueClient(commonName: string): Promise<IssuedCertificate>;
  /** Deletes `dir`. */
  remove(): Promise<void>;
}

export interface CertificateOptions {
  /** CN of the good client certificate. @default "test-client" */
  clientCommonName?: string;
  /** Extra subjectAltNames of the server certificate, in openssl syntax (`DNS:longrun.test`, `IP:10.0.0.1`). */
  serverAltNames?: readonly string[];
}

/**
 * Our own config, rather than the system's openssl.cnf (absent on some images, and its defaults vary):
 * it holds the extensions each kind of certificate needs. Node verifies clients against extendedKeyUsage,
 * and a leaf without basicConstraints CA:FALSE could sign certificates of its own.
 */
function opensslConfig(serverAltNames: readonly string[]): string {
  return `[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${["IP:127.0.0.1", "IP:::1", "DNS:localhost", ...serverAltNames].join(", ")}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;
}

const DAYS = "2";

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd: dir });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error("TLS tests need the openssl command on PATH", { cause: err });
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** A random positive serial: certificates of one issuer must not share one. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40; // positive (RFC 5280 §4.1.2.2), without a leading zero byte
  return `0x${bytes.toString("hex")}`;
}

/** A common name made safe for `-subj` (which treats `/` and `=` as syntax). */
function subject(commonName: string): string {
  if (!/^[\w .@:-]+$/.test(commonName)) throw new Error(`unsupported characters in common name ${JSON.stringify(commonName)}`);
  return `/CN=${commonName}`;
}

async function newKey(dir: string, name: string): Promise<void> {
  await openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
}

async function newCa(dir: string, name: string, commonName: string): Promise<void> {
  await newKey(dir, name);
  await openssl(dir, [
    "req", "-x509", "-new", "-config", "openssl.cnf", "-extensions", "ca", "-key", `${name}.key`,
    "-subj", subject(commonName), "-days", DAYS, "-set_serial", serial(), "-out", `${name}.pem`,
  ]);
}

async function newLeaf(dir: string, name: string, commonName: string, kind: "server" | "client", ca: string): Promise<void> {
  await newKey(dir, name);
  await openssl(dir, ["req", "-new", "-config", "openssl.cnf", "-key", `${name}.key`, "-subj", subject(commonName), "-out", `${name}.csr`]);
  await openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-set_serial", serial(),
    "-days", DAYS, "-extfile", "openssl.cnf", "-extensions", kind, "-out", `${name}.pem`,
  ]);
}

/** Makes a fresh pair of CAs, a server certificate and two client certificates in a new temporary directory. */
export async function makeCertificates(options: CertificateOptions = {}): Promise<Certificates> {
  const clientCommonName = options.clientCommonName ?? "test-client";
  const dir = await mkdtemp(join(tmpdir(), "longrun-tls-"));
  try {
    await writeFile(join(dir, "openssl.cnf"), opensslConfig(options.serverAltNames ?? []));
    await Promise.all([newCa(dir, "ca", "longrun test CA"), newCa(dir, "other-ca", "longrun other CA")]);
    await Promise.all([
      newLeaf(dir, "server", "localhost", "server", "ca"),
      newLeaf(dir, "client", clientCommonName, "client", "ca"),
      newLeaf(dir, "other-client", clientCommonName, "client", "other-ca"),
    ]);
    const path = (file: string): string => join(dir, file);
    const text = (file: string): Promise<string> => readFile(path(file), "utf8");
    const files = {
      ca: path("ca.pem"),
      serverCert: path("server.pem"),
      serverKey: path("server.key"),
      clientCert: path("client.pem"),
      clientKey: path("client.key"),
      otherCa: path("other-ca.pem"),
      otherCaClientCert: path("other-client.pem"),
      otherCaClientKey: path("other-client.key"),
    };
    let issued = 0;
    return {
      dir,
      caPem: await text("ca.pem"),
      serverCertPem: await text("server.pem"),
      serverKeyPem: await text("server.key"),
      clientCertPem: await text("client.pem"),
      clientKeyPem: await text("client.key"),
      clientCommonName,
      otherCaPem: await text("other-ca.pem"),
      otherCaClientCertPem: await text("other-client.pem"),
      otherCaClientKeyPem: await text("other-client.key"),
      files,
      async issueClient(commonName) {
        const name = `client-${++issued}`;
        await newLeaf(dir, name, commonName, "client", "ca");
        return {
          certPem: await text(`${name}.pem`),
          keyPem: await text(`${name}.key`),
          certPath: path(`${name}.pem`),
          keyPath: path(`${name}.key`),
        };
      },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
