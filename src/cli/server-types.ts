import { getOption, hasOption, type DescMethod, type DescMethodUnary, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import { typeNameOf } from "../client/any.js";
import type { LongrunClient } from "../client/client.js";
import { CallFailedError } from "../client/errors.js";
import type { ServerReflection } from "../client/reflection.js";
import { Code } from "../core/code.js";
import { resolveMessage } from "../core/registry.js";
import { operation_info, type Operation } from "../gen/google/longrunning/operations_pb.js";
import { CliError } from "./exit.js";

const OPERATION = "google.longrunning.Operation";
/**
 * Services whose RPCs answer an Operation without being long-running methods to start: the Operations service
 * itself, and longrun's admin API (RetryOperation runs an existing operation again; `longrun retry` calls it).
 */
const NOT_STARTS: ReadonlySet<string> = new Set(["google.longrunning.Operations", "longrun.admin.v1.OperationActivity"]);

/**
 * What the CLI knows of the server's types and methods. Over gRPC it asks the server by reflection; over
 * REST (reflection is gRPC only) it knows the built-in types, the demo, and `--descriptors`.
 */
export class ServerTypes {
  private servicesOnce: Promise<DescService[]> | undefined;

  constructor(
    private readonly client: LongrunClient,
    private readonly reflection: ServerReflection | undefined,
    private readonly local: FileRegistry | undefined,
  ) {}

  /**
   * Makes the types these operations' Anys name (metadata, response, error details) known to the client,
   * asking the server for the ones it lacks. Best effort: a type the server cannot describe stays unknown.
   */
  async learn(operations: readonly Operation[]): Promise<void> {
    if (this.reflection === undefined) return;
    const missing = new Set<string>();
    for (const op of operations) {
      const anys = [op.metadata, op.result.case === "response" ? op.result.value : undefined, ...(op.result.case === "error" ? op.result.value.details : [])];
      for (const any of anys) {
        if (any !== undefined && this.client.registry.getMessage(typeNameOf(any)) === undefined) missing.add(typeNameOf(any));
      }
    }
    for (const typeName of missing) {
      try {
        this.client.registry.addRegistry(await this.reflection.registry([typeName]));
      } catch {
        // Unknown to the server too, or no reflection: output shows what it can without it.
      }
    }
  }

  /** The long-running methods served (those returning google.longrunning.Operation, Operations' own excluded). */
  async methods(): Promise<DescMethodUnary[]> {
    const services = await this.services();
    return services
      .flatMap((s) => s.methods)
      .filter((m): m is DescMethodUnary => m.methodKind === "unary" && m.output.typeName === OPERATION && !NOT_STARTS.has(m.parent.typeName));
  }

  /** `Demo.Sleep` for an operation, from the method whose operation_info names its metadata (or response) type, if only one does. */
  async methodOf(op: Operation): Promise<string | undefined> {
    let methods: DescMethod[];
    try {
      methods = await this.methods();
    } catch {
      return undefined;
    }
    const metadataType = op.metadata ? typeNameOf(op.metadata) : undefined;
    const responseType = op.result.case === "response" ? typeNameOf(op.result.value) : undefined;
    let matching = methods.filter((m) => {
      if (!hasOption(m, operation_info)) return false;
      const info = getOption(m, operation_info);
      const pkg = m.parent.file.proto.package;
      const meta = resolveMessage(this.client.registry, info.metadataType, pkg)?.typeName;
      const response = resolveMessage(this.client.registry, info.responseType, pkg)?.typeName;
      return meta === metadataType && (responseType === undefined || response === responseType);
    });
    if (matching.length === 0 && metadataType !== undefined) {
      // Descriptors without options (see loadServices): the one long-running method of the file declaring the metadata type.
      const inFile = methods.filter((m) => m.parent.file.messages.some((msg) => msg.typeName === metadataType));
      if (inFile.every((m) => !hasOption(m, operation_info))) matching = inFile;
    }
    return matching.length === 1 ? `${matching[0]!.parent.name}.${matching[0]!.name}` : undefined;
  }

  /**
   * A served long-running method by name: `longrun.demo.v1.Demo.Sleep`, `longrun.demo.v1.Demo/Sleep`, or any
   * dot-separated suffix of it (`Demo.Sleep`, `demo.Sleep`, `Sleep`; case-insensitive) that names one method.
   */
  async findMethod(query: string): Promise<DescMethodUnary> {
    const wanted = query.replace(/\//g, ".");
    const methods = await this.methods();
    const fullName = (m: DescMethod): string => `${m.parent.typeName}.${m.name}`;
    const exact = methods.filter((m) => fullName(m) === wanted);
    const lower = wanted.toLowerCase();
    const found = exact.length > 0 ? exact : methods.filter((m) => fullName(m).toLowerCase() === lower || fullName(m).toLowerCase().endsWith(`.${lower}`));
    if (found.length === 1) return found[0]!;
    if (found.length > 1) {
      throw new CliError(Code.INVALID_ARGUMENT, `"${query}" is ambiguous: it could be ${found.map(fullName).join(", ")}`);
    }
    const served = methods.map(fullName).join(", ") || "none";
    const hint =
      this.reflection === undefined
        ? " Over REST the CLI knows only the demo and the methods of --descriptors (server reflection is gRPC only)."
        : "";
    throw new CliError(Code.INVALID_ARGUMENT, `no served long-running method matches "${query}" (served: ${served}).${hint}`);
  }

  private services(): Promise<DescService[]> {
    this.servicesOnce ??= this.loadServices();
    return this.servicesOnce;
  }

  private async loadServices(): Promise<DescService[]> {
    if (this.reflection !== undefined) {
      let names: string[] | undefined;
      try {
        names = (await this.reflection.listServices()).filter((n) => !n.startsWith("grpc."));
      } catch (err) {
        // A server without reflection: fall back to what the CLI knows by itself.
        if (!(err instanceof CallFailedError && err.code === Code.UNIMPLEMENTED)) throw err;
      }
      if (names !== undefined) {
        // A compiled-in or --descriptors copy of a service is preferred: servers whose reflection re-encodes
        // descriptors (@grpc/reflection does, through protobufjs) drop custom options such as operation_info.
        const known = new Map(names.map((n) => [n, this.client.registry.getService(n)] as const));
        const registry = await this.reflection.registry(names);
        this.client.registry.addRegistry(registry);
        return names.map((n) => known.get(n) ?? registry.getService(n)).filter((s): s is DescService => s !== undefined);
      }
    }
    const services: DescService[] = [];
    for (const type of this.client.registry) if (type.kind === "service") services.push(type);
    if (this.local) for (const type of this.local) if (type.kind === "service" && !services.some((s) => s.typeName === type.typeName)) services.push(type);
    return services;
  }
}
