import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  ErrorResponseSchema,
  ExtensionNumberResponseSchema,
  FileDescriptorResponseSchema,
  ListServiceResponseSchema,
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { Code } from "../../core/code.js";
import { withDependencies } from "../../core/registry.js";

/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, identical on the wire), answered from the
 * descriptors the generated code carries, serialized as they are: custom options such as
 * `google.longrunning.operation_info` and `google.api.http` reach the client, so the CLI (and grpcurl)
 * can start any served method and decode its operation. (@grpc/reflection re-encodes descriptors
 * through protobufjs, which drops those options.)
 */
export function addReflection(server: grpc.Server, services: readonly DescService[]): void {
  const index = new DescriptorIndex(services);
  for (const version of ["v1", "v1alpha"]) {
    const definition: grpc.ServiceDefinition = {
      ServerReflectionInfo: {
        path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: ServerReflectionRequest) => Buffer.from(toBinary(ServerReflectionRequestSchema, m)),
        requestDeserialize: (b: Buffer) => fromBinary(ServerReflectionRequestSchema, b),
        responseSerialize: (m: ServerReflectionResponse) => Buffer.from(toBinary(ServerReflectionResponseSchema, m)),
        responseDeserialize: (b: Buffer) => fromBinary(ServerReflectionResponseSchema, b),
      },
    };
    server.addService(definition, {
      ServerReflectionInfo: (call: grpc.ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
        call.on("data", (request: ServerReflectionRequest) => call.write(index.answer(request)));
        call.on("end", () => call.end());
        call.on("error", () => call.end());
      },
    });
  }
}

class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly bytes = new Map<string, Uint8Array>();
  /** Fully-qualified symbol (message, enum, service, method, extension) → the file declaring it. */
  private readonly symbols = new Map<string, DescFile>();
  /** Extended message → extension number → the file declaring the extension. */
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  private readonly serviceNames: string[];

  constructor(services: readonly DescService[]) {
    this.serviceNames = [...services.map((s) => s.typeName), "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
    for (const file of withDependencies(services.map((s) => s.file))) {
      this.files.set(file.proto.name, file);
      file.messages.forEach((m) => this.addMessage(m, file));
      file.enums.forEach((e) => this.addEnum(e, file));
      file.extensions.forEach((x) => this.addExtension(x, file));
      for (const service of file.services) {
        this.symbols.set(service.typeName, file);
        for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
      }
    }
  }

  answer(request: ServerReflectionRequest): ServerReflectionResponse {
    const response = create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request });
    const r = request.messageRequest;
    switch (r.case) {
      case "fileByFilename":
        return this.filesOf(response, this.files.get(r.value), `file "${r.value}"`);
      case "fileContainingSymbol":
        return this.filesOf(response, this.symbols.get(r.value), `symbol "${r.value}"`);
      case "fileContainingExtension":
        return this.filesOf(
          response,
          this.extensions.get(r.value.containingType)?.get(r.value.extensionNumber),
          `extension ${r.value.extensionNumber} of "${r.value.containingType}"`,
        );
      case "allExtensionNumbersOfType": {
        if (!this.symbols.has(r.value)) return errorResponse(response, Code.NOT_FOUND, `type "${r.value}" not found`);
        const numbers = [...(this.extensions.get(r.value)?.keys() ?? [])];
        response.messageResponse = {
          case: "allExtensionNumbersResponse",
          value: create(ExtensionNumberResponseSchema, { baseTypeName: r.value, extensionNumber: numbers }),
        };
        return response;
      }
      case "listServices":
        response.messageResponse = {
          case: "listServicesResponse",
          value: create(ListServiceResponseSchema, { service: this.serviceNames.map((name) => ({ name })) }),
        };
        return response;
      default:
        return errorResponse(response, Code.INVALID_ARGUMENT, "empty reflection request");
    }
  }

  /** The file and every file it imports, transitively: what a client needs to build its descriptors. */
  private filesOf(response: ServerReflectionResponse, file: DescFile | undefined, what: string): ServerReflectionResponse {
    if (!file) return errorResponse(response, Code.NOT_FOUND, `${what} not found`);
    const fileDescriptorProto = withDependencies([file]).map((f) => this.serialized(f));
    response.messageResponse = { case: "fileDescriptorResponse", value: create(FileDescriptorResponseSchema, { fileDescriptorProto }) };
    return response;
  }

  private serialized(file: DescFile): Uint8Array {
    let bytes = this.bytes.get(file.proto.name);
    if (!bytes) this.bytes.set(file.proto.name, (bytes = toBinary(FileDescriptorProtoSchema, file.proto)));
    return bytes;
  }

  private addMessage(message: DescMessage, file: DescFile): void {
    this.symbols.set(message.typeName, file);
    message.nestedMessages.forEach((m) => this.addMessage(m, file));
    message.nestedEnums.forEach((e) => this.addEnum(e, file));
    message.nestedExtensions.forEach((x) => this.addExtension(x, file));
  }

  private addEnum(e: DescEnum, file: DescFile): void {
    this.symbols.set(e.typeName, file);
  }

  private addExtension(extension: DescExtension, file: DescFile): void {
    this.symbols.set(extension.typeName, file);
    const byNumber = this.extensions.get(extension.extendee.typeName) ?? new Map<number, DescFile>();
    byNumber.set(extension.number, file);
    this.extensions.set(extension.extendee.typeName, byNumber);
  }
}

function errorResponse(response: ServerReflectionResponse, code: Code, message: string): ServerReflectionResponse {
  response.messageResponse = { case: "errorResponse", value: create(ErrorResponseSchema, { errorCode: code, errorMessage: message }) };
  return response;
}
