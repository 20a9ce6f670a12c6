import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getOption, hasOption, type DescMethod } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import type { OperationNames } from "../core/names.js";
import { bindingOfRule } from "../http/rule.js";
import { pageShell, type PageConfig } from "./html.js";

/**
 * The web dashboard (docs/dashboard.md): one HTML page and a few hand-written ES modules, served on the
 * REST port under `path`. The page reads and acts only through longrun's own REST API (the same
 * permission checks, the same browser protections); this module serves files and reads nothing else.
 */
export interface DashboardOptions {
  /** Where it is served: `/ui`. */
  path: string;
  names: OperationNames;
  /** The version prefix of the Operations REST bindings: `/v1`. */
  restPrefix: string;
  /** Whether the server checks credentials (the page then asks for one). */
  auth: boolean;
  /** Whether the live stream (`…:watch`) is served. */
  live: boolean;
  /** The served long-running methods: full name and metadata type. */
  methods: readonly { name: string; metadataType: string }[];
  /** Custom methods on operations (pause, resume…): the command and its RPC (offered if it has a REST binding). */
  controls: readonly { command: string; method: DescMethod }[];
}

/** The files of the page, read once: a missing one fails at start-up, not at the first request. */
const ASSETS: ReadonlyMap<string, { type: string; body: Buffer }> = new Map(
  [
    ["app.js", "text/javascript"],
    ["api.js", "text/javascript"],
    ["list.js", "text/javascript"],
    ["detail.js", "text/javascript"],
    ["live.js", "text/javascript"],
    ["view.js", "text/javascript"],
    ["bulk.js", "text/javascript"],
    ["chart.js", "text/javascript"],
    ["counters.js", "text/javascript"],
    ["timeline.js", "text/javascript"],
    ["style.css", "text/css"],
  ].map(([file, type]) => [file!, { type: `${type}; charset=utf-8`, body: readFileSync(new URL(`./assets/${file}`, import.meta.url)) }]),
);

/**
 * No script but the page's own files, no inline script or style, no plug-ins, no framing, requests only
 * to this origin; forms post only here.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** Checks the mount path: `/` then segments, no trailing slash, nothing a URL would need to escape. */
export function checkUiPath(path: string, restPrefix?: string): string {
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path) || path.split("/").some((s) => s === "." || s === "..")) {
    throw new Error(`ui path ${JSON.stringify(path)}: must be / and segments of letters, digits, . _ ~ - (e.g. /ui)`);
  }
  // The dashboard is routed before the API: under the API's prefix it would hide it.
  if (restPrefix !== undefined && (path === restPrefix || path.startsWith(`${restPrefix}/`) || restPrefix.startsWith(`${path}/`))) {
    throw new Error(`ui path ${JSON.stringify(path)}: it would hide the REST API at ${restPrefix}`);
  }
  return path;
}

function pageConfig(options: DashboardOptions, uiPath: string): PageConfig {
  const { names, restPrefix } = options;
  return {
    uiPath,
    listPath: names.parentPattern === "" ? `${restPrefix}/${names.collection}` : `${restPrefix}/{parent}/${names.collection}`,
    restPrefix,
    parentPattern: names.parentPattern,
    auth: options.auth,
    live: options.live,
    methods: options.methods,
    controls: options.controls.flatMap(({ command, method }) => {
      const binding = hasOption(method, http) ? bindingOfRule(getOption(method, http)) : undefined;
      return binding === undefined ? [] : [{ command, httpMethod: binding.method, path: binding.path, body: binding.body ?? "" }];
    }),
  };
}

/** The dashboard as a REST mount: `handle` answers every request under `path`. */
export function dashboard(options: DashboardOptions): { path: string; handle(req: IncomingMessage, res: ServerResponse, path: string): void } {
  const base = checkUiPath(options.path, options.restPrefix);
  const page = Buffer.from(pageShell(pageConfig(options, base)));
  const send = (res: ServerResponse, status: number, type: string, body: Buffer, head: boolean, cache: string): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": body.length, "cache-control": cache });
    res.end(head ? undefined : body);
  };
  return {
    path: base,
    handle(req, res, path) {
      const method = req.method ?? "GET";
      if (method !== "GET" && method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        send(res, 405, "text/plain; charset=utf-8", Buffer.from("405 Method Not Allowed\n"), false, "no-store");
        return;
      }
      const head = method === "HEAD";
      const rel = path.slice(base.length);
      // The list (`/ui`, `/ui/`) and an operation's page (`/ui/operations/<name>`) are the same page.
      if (rel === "" || rel === "/" || rel.startsWith("/operations/")) {
        send(res, 200, "text/html; charset=utf-8", page, head, "no-store");
        return;
      }
      const asset = rel.startsWith("/static/") ? ASSETS.get(rel.slice("/static/".length)) : undefined;
      if (asset !== undefined) {
        send(res, 200, asset.type, asset.body, head, "no-cache");
        return;
      }
      send(res, 404, "text/plain; charset=utf-8", Buffer.from("404 Not Found\n"), head, "no-store");
    },
  };
}
