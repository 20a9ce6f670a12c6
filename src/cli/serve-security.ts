import { readFileSync } from "node:fs";
import { Option } from "commander";
import { Code } from "../core/code.js";
import type { ServerOptions } from "../server.js";
import { CliError } from "./exit.js";
import { collectList, optionOf } from "./setting-option.js";

/** What `serve` passes on about who may call and over what: the auth and TLS settings of ServerOptions. */
export type ServeSecurity = Pick<ServerOptions, "auth" | "tls" | "insecure" | "allowedHosts" | "corsOrigins">;

export interface SecurityFlags {
  auth?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  insecure: boolean;
  allowedHost?: string[];
  corsOrigin?: string[];
}

/** The options of `serve` for auth and TLS. */
export function securityOptions(): Option[] {
  return [
    optionOf("authFile", "<file>", undefined, "(YAML or JSON, see docs/security.md; none: calls are not authenticated)"),
    new Option("--tls-cert <file>", "PEM certificate chain of the server: both transports serve TLS (with --tls-key)"),
    new Option("--tls-key <file>", "PEM private key of --tls-cert"),
    new Option("--tls-client-ca <file>", "PEM CA of client certificates: every connection must present one it signed (mutual TLS)"),
    new Option("--insecure", "allow --auth without TLS on an address other than loopback").default(false),
    optionOf("allowedHosts", "<names>", undefined, "(repeatable, or comma-separated)").argParser(collectList),
    optionOf("corsOrigins", "<origins>", undefined, "(repeatable, or comma-separated)").argParser(collectList),
  ];
}


/**
 * The flags as server options, the PEM files read. Throws CliError (INVALID_ARGUMENT) for a certificate
 * without its key (or the reverse), a client CA without TLS, or a file that cannot be read.
 */
export function serveSecurity(flags: SecurityFlags): ServeSecurity {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new CliError(Code.INVALID_ARGUMENT, "--tls-cert and --tls-key go together: the server's certificate and its private key");
  }
  if (flags.tlsClientCa !== undefined && flags.tlsCert === undefined) {
    throw new CliError(Code.INVALID_ARGUMENT, "--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS first");
  }
  const security: ServeSecurity = {};
  if (flags.auth !== undefined && flags.auth !== "") security.auth = flags.auth;
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    security.tls = { cert: readPem("--tls-cert", flags.tlsCert), key: readPem("--tls-key", flags.tlsKey) };
    if (flags.tlsClientCa !== undefined) security.tls.clientCa = readPem("--tls-client-ca", flags.tlsClientCa);
  }
  if (flags.insecure) security.insecure = true;
  if (flags.allowedHost !== undefined && flags.allowedHost.length > 0) security.allowedHosts = flags.allowedHost;
  if (flags.corsOrigin !== undefined && flags.corsOrigin.length > 0) security.corsOrigins = flags.corsOrigin;
  return security;
}

/** Where a server listens, as clients address it: `https://` when it serves TLS. */
export function shownAddresses(grpcAddress: string | undefined, httpUrl: string | undefined, tls: boolean): { grpc: string; rest: string } {
  const grpc = grpcAddress ?? "(not serving gRPC)";
  const rest = httpUrl ?? "(not serving REST)";
  if (!tls) return { grpc, rest };
  return {
    grpc: grpcAddress === undefined || /^https:\/\//.test(grpcAddress) ? grpc : `https://${grpcAddress}`,
    rest: rest.replace(/^http:\/\//, "https://"),
  };
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `${flag} ${path}: cannot read it (${err instanceof Error ? err.message : String(err)})`);
  }
}
