/**
 * The generated code describes each service as a plain object (ts-proto
 * `outputServices=generic-definitions`), so the client loads no gRPC library. The embedded
 * server and the tests serve and call through grpc-js; this file turns a generic
 * definition into grpc-js's service definition, handler and client types, once per service.
 */
import * as grpc from '@grpc/grpc-js';
import { AccessMonitoringRulesServiceDefinition } from '../gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_service.js';
import { KubeServiceDefinition } from '../gen/teleport/kube/v1/kube_service.js';
import { AuthServiceDefinition } from '../gen/teleport/legacy/client/proto/authservice.js';
import { UsersServiceDefinition } from '../gen/teleport/users/v1/users_service.js';

/** What every generated message offers for the wire. */
interface MessageCodec {
  encode(message: never): { finish(): Uint8Array };
  decode(input: Uint8Array): unknown;
}

interface GenericMethod {
  readonly name: string;
  readonly requestType: MessageCodec;
  readonly requestStream: boolean;
  readonly responseType: MessageCodec;
  readonly responseStream: boolean;
}

export interface GenericService {
  readonly name: string;
  readonly fullName: string;
  readonly methods: Readonly<Record<string, GenericMethod>>;
}

type MessageOf<C> = C extends { decode(input: never, length?: number): infer M } ? M : never;
type Req<M> = M extends { requestType: infer C } ? MessageOf<C> : never;
type Res<M> = M extends { responseType: infer C } ? MessageOf<C> : never;

type Handler<M> = M extends { requestStream: false; responseStream: false }
  ? grpc.handleUnaryCall<Req<M>, Res<M>>
  : M extends { requestStream: false; responseStream: true }
    ? grpc.handleServerStreamingCall<Req<M>, Res<M>>
    : M extends { requestStream: true; responseStream: false }
      ? grpc.handleClientStreamingCall<Req<M>, Res<M>>
      : grpc.handleBidiStreamingCall<Req<M>, Res<M>>;

/** The handlers of a service, as grpc-js's `Server.addService` takes them. */
export type ServerOf<S extends GenericService> = {
  [K in keyof S['methods']]: Handler<S['methods'][K]>;
} & grpc.UntypedServiceImplementation;

type UnaryCallback<R> = (error: grpc.ServiceError | null, response: R) => void;

interface UnaryClientMethod<Q, R> {
  (request: Q, callback: UnaryCallback<R>): grpc.ClientUnaryCall;
  (request: Q, metadata: grpc.Metadata, callback: UnaryCallback<R>): grpc.ClientUnaryCall;
  (
    request: Q,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    callback: UnaryCallback<R>,
  ): grpc.ClientUnaryCall;
}

interface StreamClientMethod<Q, R> {
  (request: Q, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<R>;
  (request: Q, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>): grpc.ClientReadableStream<R>;
}

/** A grpc-js client of a service (unary and server-streaming methods), for tests and benches. */
export type ClientOf<S extends GenericService> = grpc.Client & {
  [K in keyof S['methods'] as S['methods'][K] extends { requestStream: false }
    ? K
    : never]: S['methods'][K] extends {
    responseStream: true;
  }
    ? StreamClientMethod<Req<S['methods'][K]>, Res<S['methods'][K]>>
    : UnaryClientMethod<Req<S['methods'][K]>, Res<S['methods'][K]>>;
};

/** A view of the encoded bytes as a Buffer without copying them. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** grpc-js's definition of `service`: paths `/<fullName>/<Method>` and the message codecs. */
export function grpcService(service: GenericService): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(service.methods)) {
    out[key] = {
      path: `/${service.fullName}/${m.name}`,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestSerialize: (value: unknown) => asBuffer(m.requestType.encode(value as never).finish()),
      requestDeserialize: (bytes: Buffer) => m.requestType.decode(bytes),
      responseSerialize: (value: unknown) => asBuffer(m.responseType.encode(value as never).finish()),
      responseDeserialize: (bytes: Buffer) => m.responseType.decode(bytes),
    };
  }
  return out;
}

/** A grpc-js client class for `service`. */
export function grpcClient<S extends GenericService>(
  service: S,
): new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ClientOptions>,
) => ClientOf<S> {
  return grpc.makeGenericClientConstructor(grpcService(service), service.fullName) as never;
}

export const AuthServiceService = grpcService(AuthServiceDefinition);
export type AuthServiceServer = ServerOf<typeof AuthServiceDefinition>;
export const AuthServiceClient = grpcClient(AuthServiceDefinition);
export type AuthServiceClient = ClientOf<typeof AuthServiceDefinition>;

export const KubeServiceService = grpcService(KubeServiceDefinition);
export type KubeServiceServer = ServerOf<typeof KubeServiceDefinition>;
export const KubeServiceClient = grpcClient(KubeServiceDefinition);
export type KubeServiceClient = ClientOf<typeof KubeServiceDefinition>;

export const AccessMonitoringRulesServiceService = grpcService(AccessMonitoringRulesServiceDefinition);
export type AccessMonitoringRulesServiceServer = ServerOf<typeof AccessMonitoringRulesServiceDefinition>;
export const AccessMonitoringRulesServiceClient = grpcClient(AccessMonitoringRulesServiceDefinition);
export type AccessMonitoringRulesServiceClient = ClientOf<typeof AccessMonitoringRulesServiceDefinition>;

export const UsersServiceService = grpcService(UsersServiceDefinition);
export type UsersServiceServer = ServerOf<typeof UsersServiceDefinition>;
export const UsersServiceClient = grpcClient(UsersServiceDefinition);
export type UsersServiceClient = ClientOf<typeof UsersServiceDefinition>;
