import { Option } from "commander";

/** The options every command that opens the store shares. */
export function storeOptions(): Option[] {
  return [
    new Option("--store <url>", "where operations are kept: sqlite:PATH or postgres://user@host:port/db").env("LONGRUN_STORE").default("sqlite:./longrun.db"),
    new Option("--schema <name>", "PostgreSQL schema of longrun's tables").env("LONGRUN_SCHEMA").default("longrun"),
  ];
}

/** How a URL is shown in logs: without its password. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, "$1:***@");
}
