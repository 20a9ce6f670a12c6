import {
  createRegistry,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  type Registry,
} from "@bufbuild/protobuf";
import { BUILTIN_FILES, withDependencies } from "../core/registry.js";

/** The types every client knows: google.longrunning, google.rpc (status and error details), google.cloud.common, the well-known types. */
export const BUILTIN_REGISTRY: Registry = createRegistry(...withDependencies(BUILTIN_FILES));

/**
 * The registry of a client: the built-in types, the files it was given (with their imports) and any
 * registries it was given (e.g. built from server reflection), growing as methods are started (the file
 * of a started method is added). Later inputs win for a type name given twice.
 */
export class ClientRegistry implements Registry {
  readonly kind = "registry";
  private readonly files = new Map<string, DescFile>();
  private readonly registries: Registry[] = [];
  private inner: Registry;

  constructor(files: readonly DescFile[] = [], registries: readonly Registry[] = []) {
    for (const file of withDependencies([...BUILTIN_FILES, ...files])) this.files.set(file.proto.name, file);
    this.registries.push(...registries);
    this.inner = this.build();
  }

  /** Adds a file and its imports (once). */
  addFile(file: DescFile): void {
    let added = false;
    for (const f of withDependencies([file])) {
      if (this.files.has(f.proto.name)) continue;
      this.files.set(f.proto.name, f);
      added = true;
    }
    if (added) this.inner = this.build();
  }

  /** Adds all types of a registry (e.g. one built from server reflection). */
  addRegistry(registry: Registry): void {
    this.registries.push(registry);
    this.inner = this.build();
  }

  [Symbol.iterator](): IterableIterator<DescMessage | DescEnum | DescExtension | DescService> {
    return this.inner[Symbol.iterator]();
  }
  get(typeName: string): DescMessage | DescEnum | DescExtension | DescService | undefined {
    return this.inner.get(typeName);
  }
  getMessage(typeName: string): DescMessage | undefined {
    return this.inner.getMessage(typeName);
  }
  getEnum(typeName: string): DescEnum | undefined {
    return this.inner.getEnum(typeName);
  }
  getExtension(typeName: string): DescExtension | undefined {
    return this.inner.getExtension(typeName);
  }
  getExtensionFor(extendee: DescMessage, no: number): DescExtension | undefined {
    return this.inner.getExtensionFor(extendee, no);
  }
  getService(typeName: string): DescService | undefined {
    return this.inner.getService(typeName);
  }

  private build(): Registry {
    return createRegistry(...this.files.values(), ...this.registries);
  }
}
