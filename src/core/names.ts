import { DEFAULTS } from "./defaults.js";
import { invalidArgument, Reason } from "./errors.js";
import { OPERATION_ID_PATTERN } from "./ids.js";

export interface OperationNamesOptions {
  /** The collection id: `operations` (default), `transferOperations`, ... */
  collection?: string;
  /**
   * Parent pattern, as segments with `*` for one variable segment, e.g. `projects/*\/locations/*`.
   * Empty (default): names are `{collection}/{id}` and ListOperations takes `name = "{collection}"`.
   */
  parent?: string;
}

export interface ParsedName {
  /** The parent resource name, "" when names are not parent-scoped. */
  parent: string;
  id: string;
}

/**
 * How this deployment names operations: `operations/{id}` by default, or parent-scoped
 * (`projects/{project}/locations/{location}/operations/{id}`). One place parses and formats them, so the
 * service, the runtime and the REST bindings cannot disagree.
 */
export class OperationNames {
  readonly collection: string;
  readonly parentPattern: string;
  private readonly parentSegments: string[];

  constructor(options: OperationNamesOptions = {}) {
    this.collection = options.collection ?? DEFAULTS.collection.value;
    this.parentPattern = options.parent ?? "";
    this.parentSegments = this.parentPattern === "" ? [] : this.parentPattern.split("/");
  }

  /**
   * The REST path templates of the Operations methods for these names: one operation
   * (`{prefix}/{name=operations/**}`, or `{prefix}/{name=P/operations/*}` under a parent pattern P) and the
   * list (`{prefix}/{name=operations}`, or `{prefix}/{name=P}/operations`).
   */
  restTemplates(prefix: string = DEFAULTS.restPrefix.value): { operation: string; list: string } {
    const { collection, parentPattern: parent } = this;
    return parent === ""
      ? { operation: `${prefix}/{name=${collection}/**}`, list: `${prefix}/{name=${collection}}` }
      : { operation: `${prefix}/{name=${parent}/${collection}/*}`, list: `${prefix}/{name=${parent}}/${collection}` };
  }

  format(parent: string, id: string): string {
    return parent === "" ? `${this.collection}/${id}` : `${parent}/${this.collection}/${id}`;
  }

  /** Parses an operation name, or throws INVALID_ARGUMENT saying what is wrong with it. */
  parse(name: string, field = "name"): ParsedName {
    if (name === "") throw invalidArgument(field, "must not be empty", Reason.INVALID_NAME);
    const segments = name.split("/");
    const n = this.parentSegments.length;
    if (segments.length !== n + 2 || segments[n] !== this.collection || (n > 0 && !this.matchesParent(segments.slice(0, n)))) {
      const expected = this.format(this.parentPattern, "{id}");
      throw invalidArgument(field, `"${truncate(name)}" is not an operation name of the form ${expected}`, Reason.INVALID_NAME);
    }
    const id = segments[n + 1] ?? "";
    if (!OPERATION_ID_PATTERN.test(id)) {
      throw invalidArgument(field, `"${truncate(name)}" has an invalid operation id (expected 1-128 of [A-Za-z0-9_-])`, Reason.INVALID_NAME);
    }
    return { parent: n === 0 ? "" : segments.slice(0, n).join("/"), id };
  }

  /** Parses ListOperationsRequest.name: the collection itself, or the parent when names are parent-scoped. */
  parseListName(name: string, field = "name"): string {
    if (this.parentSegments.length === 0) {
      if (name !== this.collection) {
        throw invalidArgument(field, `must be "${this.collection}", got "${truncate(name)}"`, Reason.INVALID_NAME);
      }
      return "";
    }
    const segments = name.split("/");
    if (!this.matchesParent(segments)) {
      throw invalidArgument(field, `"${truncate(name)}" is not a parent of the form ${this.parentPattern}`, Reason.INVALID_NAME);
    }
    return name;
  }

  private matchesParent(segments: string[]): boolean {
    if (segments.length !== this.parentSegments.length) return false;
    return segments.every((s, i) => {
      const p = this.parentSegments[i];
      return p === "*" ? OPERATION_ID_PATTERN.test(s) : s === p;
    });
  }
}

function truncate(s: string, max = 100): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
