import https from "node:https";
import { create, fromJson, type DescMessage, type DescMethod, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { Code, codeOfEnvelopeStatus, codeOfHttpStatus } from "../core/code.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { agentFetch, type Fetch } from "./agent-fetch.js";
import { checkClientTls, checkCredentials, credentialHeaders, hasTlsMaterial, type ClientCredentials, type ClientTls } from "./credentials.js";
import { CallFailedError, UnknownTypeError } from "./errors.js";
import type { RestBinding } from "../http/rule.js";
import { annotatedBinding, BindingMismatchError, operationsBindings, transcodeRequest, type OperationNaming } from "./rest-request.js";
import { methodPath, type Attempt, type OperationsTransport } from "./transport.js";

export interface RestTransportOptions extends ClientCredentials {
  /** The base URL: `http://host:port` (a path prefix is kept: `https://example.com/api`); `host:port` is `https://` with `tls`. */
  baseUrl: string;
  registry: Registry;
  /** How the server names operations (prefix, collection, parent), for the Operations bindings. */
  naming?: OperationNaming;
  /**
   * Bindings by full method name (`google.longrunning.Operations.GetOperation`), over longrun's Operations
   * bindings and each method's `google.api.http` annotation. `null` marks a method the server does not
   * bind: calling it fails with UNIMPLEMENTED (for Wait, the client then polls).
   */
  bindings?: Record<string, RestBinding | null>;
  /** Headers sent with every call (an API key, say). */
  headers?: Record<string, string>;
  /** @default globalThis.fetch (with `tls` material: node:https with those certificates) */
  fetch?: typeof fetch;
  /** A CA to trust, a client certificate (mutual TLS): the base URL must then be https. */
  tls?: ClientTls;
}

/**
 * Unary calls over HTTP/JSON: the request transcoded by the method's REST binding, bodies in proto3 JSON
 * (bufbuild `toJson`/`fromJson` with the client's registry), Google's error envelope read back into a
 * google.rpc.Status, so a REST failure is the same CallFailedError as a gRPC one.
 */
export class RestTransport implements OperationsTransport {
  readonly kind = "rest";
  private readonly baseUrl: string;
  private readonly registry: Registry;
  private readonly bindings: Record<string, RestBinding | null>;
  private readonly headers: Record<string, string>;
  private readonly credentials: ClientCredentials;
  private readonly fetch: Fetch;
  private readonly agent: https.Agent | undefined;

  constructor(options: RestTransportOptions) {
    checkCredentials(options);
    checkClientTls(options.tls);
    this.baseUrl = restBaseUrl(options.baseUrl, options.tls !== undefined);
    if (options.tls !== undefined && !this.baseUrl.startsWith("https://")) {
      throw new TypeError(`tls is given but ${this.baseUrl} is plain HTTP: use an https:// URL`);
    }
    this.registry = options.registry;
    this.bindings = { ...operationsBindings(options.naming), ...options.bindings };
    this.headers = options.headers ?? {};
    this.credentials = { apiKey: options.apiKey, token: options.token };
    if (hasTlsMaterial(options.tls)) {
      if (options.fetch !== undefined) throw new TypeError("give either rest.fetch or tls certificates: a custom fetch cannot take them");
      const { ca, cert, key } = options.tls;
      this.agent = new https.Agent({ ca, cert, key, keepAlive: true });
      this.fetch = agentFetch(this.agent);
    } else {
      this.fetch = options.fetch ?? globalThis.fetch;
    }
  }

  async call(method: DescMethod, request: Message, output: DescMessage, attempt: Attempt): Promise<Message> {
    const { signal } = attempt;
    signal?.throwIfAborted();
    const name = methodPath(method);
    const fail = (code: Code, message: string, cause?: unknown): CallFailedError =>
      new CallFailedError(name, create(StatusSchema, { code, message }), this.registry, { cause });

    const binding = this.bindingOf(method);
    if (binding === undefined) throw fail(Code.UNIMPLEMENTED, `${name} has no REST binding (google.api.http): call it over gRPC`);
    let parts;
    try {
      parts = transcodeRequest(binding, method.input, request, this.registry);
    } catch (e) {
      if (e instanceof BindingMismatchError) throw fail(Code.INVALID_ARGUMENT, e.message, e);
      throw e;
    }

    // Before the deadline starts: a token function may take its time (a refresh), and a failing one fails the call as it is.
    const credentials = await credentialHeaders(this.credentials);
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(Math.max(1, attempt.deadline - Date.now()));
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(this.baseUrl + parts.pathAndQuery, {
        method: parts.method,
        headers: {
          accept: "application/json",
          ...(parts.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
          ...this.headers,
          ...credentials,
        },
        body: parts.body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) throw fail(Code.DEADLINE_EXCEEDED, `${name}: no answer before the deadline`, e);
      // Connection refused or reset, DNS failure: the server cannot be reached (what gRPC calls UNAVAILABLE).
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
      throw fail(Code.UNAVAILABLE, `cannot reach ${this.baseUrl}: ${cause}`, e);
    }

    if (!response.ok) {
      throw new CallFailedError(name, this.statusOfErrorResponse(response.status, text), this.registry);
    }
    let json: JsonValue;
    try {
      json = text.trim() === "" ? {} : (JSON.parse(text) as JsonValue);
    } catch (e) {
      throw fail(Code.INTERNAL, `the response is not JSON (HTTP ${response.status}): ${text.slice(0, 200)}`, e);
    }
    assertKnownTypes(json, this.registry, `${output.typeName} from ${name}`);
    try {
      return fromJson(output, json, { registry: this.registry, ignoreUnknownFields: true });
    } catch (e) {
      throw fail(Code.INTERNAL, `the response is not a valid ${output.typeName}: ${e instanceof Error ? e.message : String(e)}`, e);
    }
  }

  close(): void {
    // Global fetch keeps no state of ours; our own agent holds kept-alive sockets.
    this.agent?.destroy();
  }

  private bindingOf(method: DescMethod): RestBinding | undefined {
    const fullName = `${method.parent.typeName}.${method.name}`;
    if (fullName in this.bindings) return this.bindings[fullName] ?? undefined;
    return annotatedBinding(method);
  }

  /**
   * Google's envelope `{"error": {"code", "message", "status", "details"}}` → google.rpc.Status. A body that
   * is not the envelope (a proxy's page, a server without the route) gets the code gRPC gives that HTTP
   * status (grpc/doc/http-grpc-status-mapping.md: 404 → UNIMPLEMENTED, 429/502/503/504 → UNAVAILABLE, …).
   */
  private statusOfErrorResponse(httpStatus: number, text: string): Status {
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      envelope = undefined;
    }
    const error = isObject(envelope) && isObject(envelope["error"]) ? envelope["error"] : undefined;
    if (error === undefined) {
      const snippet = text.trim().slice(0, 200);
      return create(StatusSchema, { code: codeOfHttpStatus(httpStatus), message: `HTTP ${httpStatus}${snippet ? `: ${snippet}` : ""}` });
    }
    const named = typeof error["status"] === "string" ? Code[error["status"] as keyof typeof Code] : undefined;
    const code = typeof named === "number" && named !== Code.OK ? named : codeOfEnvelopeStatus(httpStatus);
    const message = typeof error["message"] === "string" ? error["message"] : `HTTP ${httpStatus}`;
    const details: Any[] = [];
    for (const detail of Array.isArray(error["details"]) ? error["details"] : []) {
      try {
        details.push(fromJson(AnySchema, detail as JsonValue, { registry: this.registry, ignoreUnknownFields: true }));
      } catch {
        // A detail of a type the client does not know cannot be kept as an Any (its bytes need the schema).
      }
    }
    return create(StatusSchema, { code, message, details });
  }
}

/** Throws UnknownTypeError for the first `@type` in the JSON that the registry does not hold. */
export function assertKnownTypes(json: JsonValue, registry: Registry, where: string): void {
  if (json === null || typeof json !== "object") return;
  if (Array.isArray(json)) {
    for (const item of json) assertKnownTypes(item, registry, where);
    return;
  }
  const type = json["@type"];
  if (typeof type === "string") {
    const typeName = type.slice(type.lastIndexOf("/") + 1);
    if (registry.getMessage(typeName) === undefined) throw new UnknownTypeError(typeName, `an Any in ${where}`);
  }
  for (const value of Object.values(json)) assertKnownTypes(value, registry, where);
}

/** `host:port` → `http://host:port` (`https://` when `tls`); a URL as given, without a trailing slash. */
export function restBaseUrl(address: string, tls = false): string {
  const url = /^https?:\/\//.test(address) ? address : `${tls ? "https" : "http"}://${address}`;
  return url.replace(/\/+$/, "");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
