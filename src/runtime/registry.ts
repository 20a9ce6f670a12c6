import type { Registry } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { Reason, RpcError } from "../core/errors.js";
import type { OperationNames } from "../core/names.js";
import { MetadataCodec } from "./metadata.js";
import { resolveMethod, type MethodDeclaration, type MethodDefinition } from "./methods.js";

/** A method this runtime serves, with the codec of its metadata. */
export interface RegisteredMethod {
  readonly definition: MethodDefinition;
  readonly codec: MetadataCodec;
}

/**
 * The long-running methods a runtime serves, resolved and checked once at start-up (per-method defaults
 * come from `resolveMethod`): a declaration that cannot be served is an Error here, not at the first call.
 */
export class MethodRegistry {
  private readonly byName = new Map<string, RegisteredMethod>();
  private readonly definitionsByName = new Map<string, MethodDefinition>();
  /** The full names, as the claim query takes them: built once, not per claim. */
  readonly fullNames: readonly string[];

  constructor(declarations: readonly MethodDeclaration[], registry: Registry, names: OperationNames) {
    for (const declaration of declarations) {
      const definition = resolveMethod(declaration, registry);
      if (this.byName.has(definition.fullName)) throw new Error(`${definition.fullName} is defined twice`);
      if (names.parentPattern !== "" && !definition.parentOf) {
        throw new Error(
          `${definition.fullName} cannot name its operations under ${names.parentPattern}: its request has no parent field (declare \`parent\`)`,
        );
      }
      this.byName.set(definition.fullName, { definition, codec: new MetadataCodec(definition.metadata, registry) });
      this.definitionsByName.set(definition.fullName, definition);
    }
    this.fullNames = [...this.byName.keys()];
  }

  /** The served methods' definitions, by full name (`pkg.Service.Method`). */
  get definitions(): ReadonlyMap<string, MethodDefinition> {
    return this.definitionsByName;
  }

  get(fullName: string): RegisteredMethod | undefined {
    return this.byName.get(fullName);
  }

  /** The method, or UNIMPLEMENTED: a start of a method this server does not serve. */
  require(fullName: string): RegisteredMethod {
    const method = this.byName.get(fullName);
    if (!method) {
      throw new RpcError(Code.UNIMPLEMENTED, `Method ${fullName} is not served here.`, { reason: Reason.UNIMPLEMENTED, metadata: { method: fullName } });
    }
    return method;
  }
}
