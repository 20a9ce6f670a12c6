import * as grpc from "@grpc/grpc-js";
import { create, createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code } from "../core/code.js";
import { BUILTIN_FILES, withDependencies } from "../core/registry.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { CallFailedError } from "./errors.js";
import { GrpcTransport, statusOfGrpcError } from "./grpc.js";

const V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const V1ALPHA = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

/**
 * A client of gRPC server reflection (grpc.reflection.v1, falling back to v1alpha): which services a server
 * serves, and the descriptors of their files, so a tool can call any method of any server without its
 * protos. The messages are read and written with the wire codec directly (the reflection protos are tiny).
 */
export class ServerReflection {
  private path = V1;
  private readonly client: grpc.Client;
  private readonly metadata: () => Promise<grpc.Metadata>;

  /** Over a channel; or over a client's transport, with its metadata and credentials (a server may guard reflection too). */
  constructor(
    channel: grpc.Client | GrpcTransport,
    private readonly timeoutMs = 10_000,
  ) {
    if (channel instanceof GrpcTransport) {
      this.client = channel.client;
      this.metadata = () => channel.callMetadata();
    } else {
      this.client = channel;
      this.metadata = async () => new grpc.Metadata();
    }
  }

  /** The full names of the services the server serves. */
  async listServices(): Promise<string[]> {
    const response = await this.ask(new BinaryWriter().tag(7, 2).string("").finish()); // list_services
    const list = field(response, 6)[0]; // list_services_response
    if (list === undefined) throw protocolError("no list_services_response");
    return field(list, 1).map((service) => new TextDecoder().decode(field(service, 1)[0] ?? new Uint8Array()));
  }

  /** The files declaring the symbols (services, messages), with every file they import, as one registry. */
  async registry(symbols: readonly string[]): Promise<FileRegistry> {
    const files = new Map<string, FileDescriptorProto>();
    for (const symbol of symbols) {
      for (const file of await this.files(new BinaryWriter().tag(4, 2).string(symbol).finish())) files.set(file.name, file); // file_containing_symbol
    }
    // Servers usually send the imports along; ask for any that are missing.
    const builtin = new Map(withDependencies(BUILTIN_FILES).map((f) => [f.proto.name, f.proto]));
    for (let missing = missingImports(files); missing.length > 0; missing = missingImports(files)) {
      for (const name of missing) {
        let found: FileDescriptorProto[] = [];
        try {
          found = await this.files(new BinaryWriter().tag(3, 2).string(name).finish()); // file_by_filename
        } catch (err) {
          if (!builtin.has(name)) throw err;
        }
        for (const file of found) files.set(file.name, file);
        if (!files.has(name)) {
          const known = builtin.get(name);
          if (known === undefined) throw protocolError(`the server does not know the file ${name}`);
          files.set(name, known);
        }
      }
    }
    return createFileRegistry(create(FileDescriptorSetSchema, { file: importsFirst(files) }));
  }

  private async files(request: Uint8Array): Promise<FileDescriptorProto[]> {
    const response = await this.ask(request);
    const error = field(response, 7)[0]; // error_response
    if (error !== undefined) throw protocolError(errorMessage(error), Code.NOT_FOUND);
    const list = field(response, 4)[0]; // file_descriptor_response
    if (list === undefined) throw protocolError("no file_descriptor_response");
    return field(list, 1).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  }

  /** One request/response exchange on the bidi stream; UNIMPLEMENTED on v1 retries on v1alpha. */
  private async ask(request: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.exchange(this.path, request);
    } catch (err) {
      if (this.path === V1 && err instanceof CallFailedError && err.code === Code.UNIMPLEMENTED) {
        this.path = V1ALPHA;
        return this.exchange(this.path, request);
      }
      throw err;
    }
  }

  private async exchange(path: string, request: Uint8Array): Promise<Uint8Array> {
    const metadata = await this.metadata();
    return new Promise((resolve, reject) => {
      let answered = false;
      const call = this.client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, metadata, {
        deadline: Date.now() + this.timeoutMs,
      });
      call.on("data", (b: Buffer) => {
        answered = true;
        resolve(new Uint8Array(b));
        call.end();
      });
      call.on("error", (err: grpc.ServiceError) => {
        if (!answered) reject(new CallFailedError(path.slice(1), statusOfGrpcError(err), undefined, { cause: err }));
      });
      call.on("end", () => {
        if (!answered) reject(protocolError("the reflection stream ended without an answer"));
      });
      call.write(Buffer.from(request));
    });
  }
}

/** The files ordered so that each comes after the files it imports (createFileRegistry needs that). */
function importsFirst(files: Map<string, FileDescriptorProto>): FileDescriptorProto[] {
  const ordered: FileDescriptorProto[] = [];
  const seen = new Set<string>();
  const visit = (file: FileDescriptorProto): void => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dep of file.dependency) {
      const imported = files.get(dep);
      if (imported) visit(imported);
    }
    ordered.push(file);
  };
  for (const file of files.values()) visit(file);
  return ordered;
}

function missingImports(files: Map<string, FileDescriptorProto>): string[] {
  const missing = new Set<string>();
  for (const file of files.values()) for (const dep of file.dependency) if (!files.has(dep)) missing.add(dep);
  return [...missing];
}

/** The bytes of the length-delimited fields numbered `wanted`. */
function field(message: Uint8Array, wanted: number): Uint8Array[] {
  const reader = new BinaryReader(message);
  const found: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [number, type] = reader.tag();
    if (number === wanted) found.push(reader.bytes());
    else reader.skip(type);
  }
  return found;
}

/** ErrorResponse { int32 error_code = 1; string error_message = 2; } */
function errorMessage(bytes: Uint8Array): string {
  const reader = new BinaryReader(bytes);
  let message = "";
  let code = 0;
  while (reader.pos < reader.len) {
    const [number, type] = reader.tag();
    if (number === 1) code = reader.int32();
    else if (number === 2) message = reader.string();
    else reader.skip(type);
  }
  return `server reflection: ${message || "error"} (code ${code})`;
}

function protocolError(message: string, code: Code = Code.INTERNAL): CallFailedError {
  return new CallFailedError("grpc.reflection.v1.ServerReflection/ServerReflectionInfo", create(StatusSchema, { code, message }), undefined);
}
