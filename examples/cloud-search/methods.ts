/**
 * Cloud Search's `indexing.datasources.updateSchema` and `deleteSchema`, served by longrun from a proto that
 * models their public REST surface (this folder's proto/longrun/examples/cloudsearch/v1/cloudsearch.proto). Each starts
 * an operation; the schema is validated in the operation (a bad schema ends it with INVALID_ARGUMENT) and
 * stored as a JSON file per data source under a data directory. `server.ts` starts them configured as
 * cloudsearch.googleapis.com is (names, REST surface, error domain).
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code, defineMethod, invalidArgument, RpcError, type MethodDeclaration } from "../../src/index.js";
import {
  Datasources,
  SchemaOperationMetadata_Stage as Stage,
  SchemaOperationMetadataSchema,
  SchemaSchema,
  type Schema,
} from "./gen/longrun/examples/cloudsearch/v1/cloudsearch_pb.js";
import { EmptySchema } from "@bufbuild/protobuf/wkt";

/** `datasources/{source_id}`, as the REST binding `PUT /v1/indexing/{name=datasources/*}/schema` captures. */
const DATASOURCE = /^datasources\/[^/]+$/;
/** Object and property names: a letter, then letters and digits; at most 256 characters. */
const IDENT = /^[A-Za-z][A-Za-z0-9]{0,255}$/;
const MAX_OBJECTS = 10;
const MAX_PROPERTIES = 1000;

function checkName(name: string): void {
  if (!DATASOURCE.test(name)) throw invalidArgument("name", `must be "datasources/{source_id}", got "${name.slice(0, 200)}"`);
}

/** The first problem with a schema, as an INVALID_ARGUMENT naming the field; undefined when valid. */
export function schemaProblem(schema: Schema | undefined): RpcError | undefined {
  if (schema === undefined) return invalidArgument("schema", "is required");
  const objects = schema.objectDefinitions;
  if (objects.length === 0) return invalidArgument("schema.object_definitions", "must not be empty");
  if (objects.length > MAX_OBJECTS) return invalidArgument("schema.object_definitions", `at most ${MAX_OBJECTS}, got ${objects.length}`);
  const objectNames = new Set<string>();
  for (const [i, object] of objects.entries()) {
    const at = `schema.object_definitions[${i}]`;
    if (!IDENT.test(object.name)) return invalidArgument(`${at}.name`, `must start with a letter and contain only letters and digits (1-256), got "${object.name.slice(0, 300)}"`);
    if (objectNames.has(object.name)) return invalidArgument(`${at}.name`, `"${object.name}" is defined more than once`);
    objectNames.add(object.name);
    const props = object.propertyDefinitions;
    if (props.length > MAX_PROPERTIES) return invalidArgument(`${at}.property_definitions`, `at most ${MAX_PROPERTIES}, got ${props.length}`);
    const propertyNames = new Set<string>();
    for (const [j, p] of props.entries()) {
      const pat = `${at}.property_definitions[${j}]`;
      if (!IDENT.test(p.name)) return invalidArgument(`${pat}.name`, `must start with a letter and contain only letters and digits (1-256), got "${p.name.slice(0, 300)}"`);
      if (propertyNames.has(p.name)) return invalidArgument(`${pat}.name`, `"${p.name}" is defined more than once in "${object.name}"`);
      propertyNames.add(p.name);
      const type = p.propertyOptions.case;
      if (type === undefined) return invalidArgument(pat, "exactly one of the *_property_options must be set (the property's type)");
      if (p.isRepeatable && type === "booleanPropertyOptions") return invalidArgument(`${pat}.is_repeatable`, "cannot be true for a boolean property");
      if (p.isSortable && p.isRepeatable) return invalidArgument(`${pat}.is_sortable`, "cannot be true for a repeatable property");
      if ((p.isSortable || p.isFacetable) && type === "objectPropertyOptions") {
        return invalidArgument(pat, "is_sortable and is_facetable cannot be true for an object property");
      }
      if ((p.isSortable || p.isFacetable || p.isWildcardSearchable) && !p.isReturnable) {
        return invalidArgument(`${pat}.is_returnable`, "must be true when is_sortable, is_facetable or is_wildcard_searchable is");
      }
      if (p.isWildcardSearchable && type !== "textPropertyOptions") return invalidArgument(`${pat}.is_wildcard_searchable`, "only for text properties");
      if ((p.displayOptions?.displayLabel.length ?? 0) > 64) return invalidArgument(`${pat}.display_options.display_label`, "at most 64 characters");
    }
  }
  return undefined;
}

/** Where a data source's schema is stored. */
export function schemaPath(dataDir: string, datasource: string): string {
  return join(dataDir, `${encodeURIComponent(datasource.slice("datasources/".length))}.schema.json`);
}

/** The stored schema of a data source, or undefined. */
export async function readSchema(dataDir: string, datasource: string): Promise<Schema | undefined> {
  try {
    return fromJsonString(SchemaSchema, await readFile(schemaPath(dataDir, datasource), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** The two schema methods, storing schemas under `dataDir`. */
export function schemaMethods(dataDir: string): MethodDeclaration[] {
  const updateSchema = defineMethod({
    method: Datasources.method.updateSchema,
    response: SchemaSchema,
    metadata: SchemaOperationMetadataSchema,
    validate: (request) => checkName(request.name),
    async handler(request, ctx) {
      await ctx.progress({ datasource: request.name, stage: Stage.VALIDATING, validateOnly: request.validateOnly });
      const problem = schemaProblem(request.schema);
      if (problem) throw problem;
      await ctx.progress({ validatedObjects: request.schema!.objectDefinitions.length });
      const schema = create(SchemaSchema, { objectDefinitions: request.schema!.objectDefinitions });
      if (!request.validateOnly) {
        ctx.signal.throwIfAborted();
        await ctx.progress({ stage: Stage.STORING });
        await mkdir(dataDir, { recursive: true });
        const path = schemaPath(dataDir, request.name);
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, toJsonString(SchemaSchema, schema, { prettySpaces: 2 }), { signal: ctx.signal });
        await rename(tmp, path); // atomic: readers see the old schema or the new one
      }
      await ctx.progress({ stage: Stage.DONE });
      return schema;
    },
  });

  const deleteSchema = defineMethod({
    method: Datasources.method.deleteSchema,
    response: EmptySchema,
    metadata: SchemaOperationMetadataSchema,
    validate: (request) => checkName(request.name),
    async handler(request, ctx) {
      await ctx.progress({ datasource: request.name, stage: Stage.STORING });
      try {
        await rm(schemaPath(dataDir, request.name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        throw new RpcError(Code.NOT_FOUND, `Data source "${request.name}" has no schema.`);
      }
      await ctx.progress({ stage: Stage.DONE });
      return {};
    },
  });
  return [updateSchema, deleteSchema] as MethodDeclaration[];
}

/** For `longrun serve --methods examples/cloud-search/methods.ts`: schemas under $CLOUD_SEARCH_DATA or ./cloud-search-data. */
export const methods = schemaMethods(process.env.CLOUD_SEARCH_DATA ?? "./cloud-search-data");
