import {
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  connectivityState,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { codeName, fromServiceError, RpcError } from './errors.js';

/** Per-call options of every typed method. */
export interface CallOptions {
  /** Aborting cancels the call; the call then rejects (or the iteration throws) with kind `interrupted`. */
  signal?: AbortSignal;
  /** Deadline of this call. Unary calls default to the connection's `rpcTimeoutMs`; streams have none. */
  timeoutMs?: number;
}

/** One method of a ts-proto `outputServices=grpc-js` service definition. */
export interface MethodDefinition {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: never): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

export type ServiceDefinition = Record<string, MethodDefinition>;

type RequestOf<M> = M extends { requestSerialize(value: infer R): Buffer } ? R : never;
type ResponseOf<M> = M extends { responseDeserialize(bytes: Buffer): infer R } ? R : never;

type Builtin = Date | Buffer | Uint8Array | string | number | boolean | undefined;

/** What a caller may pass for a request: any subset, at any depth. */
export type DeepPartial<T> = T extends Builtin
  ? T
  : T extends readonly (infer U)[]
    ? DeepPartial<U>[]
    : T extends { $case: string; value: unknown }
      ? { $case: T['$case']; value?: DeepPartial<T['value']> }
      : T extends object
        ? { [K in keyof T]?: DeepPartial<T[K]> }
        : T;

type UnaryMethod<M> = (req?: DeepPartial<RequestOf<M>>, opts?: CallOptions) => Promise<ResponseOf<M>>;
type StreamMethod<M> = (req?: DeepPartial<RequestOf<M>>, opts?: CallOptions) => AsyncIterable<ResponseOf<M>>;

/**
 * The typed client of a service: unary methods return a Promise, server-streaming methods
 * an AsyncIterable (leaving the loop cancels the call). Client streaming is not used.
 */
export type TypedClient<S> = {
  [K in keyof S as S[K] extends { requestStream: false } ? K : never]: S[K] extends { responseStream: true }
    ? StreamMethod<S[K]>
    : UnaryMethod<S[K]>;
};

/** Completes a partial request: the generated message's `fromPartial`. */
export interface MessageFactory<T> {
  fromPartial(object: DeepPartial<T>): T;
}

/**
 * The request message of each method. grpc-js definitions carry serializers but not the
 * message objects, so they are named once per service; the compiler checks that each
 * entry yields the method's request type.
 */
export type RequestFactories<S> = {
  [K in keyof S as S[K] extends { requestStream: false } ? K : never]: MessageFactory<RequestOf<S[K]>>;
};

/** What the typed methods need from the connection they run on. */
export interface RpcContext {
  client: Client;
  /** Default deadline of unary calls, ms. */
  rpcTimeoutMs: number;
  /** Who is called, for messages: `the Auth Service at 127.0.0.1:3025`. */
  endpoint: string;
  /** Receives `rpc <Method> <ms>ms <CODE>` per call; never payloads. */
  debug?: (line: string) => void;
  /**
   * Explains an UNAVAILABLE failure, e.g. the TLS handshake error grpc-js hides in it;
   * undefined when it has nothing to add.
   */
  diagnose?: () => Promise<RpcError | undefined>;
}

/** Streams are read ahead by at most this many messages before grpc-js is asked to pause. */
const READ_AHEAD = 64;

/**
 * Builds the typed client of `service` by iterating its definition once.
 */
export function createTypedClient<S extends ServiceDefinition>(
  service: S,
  factories: RequestFactories<S>,
  ctx: RpcContext,
): TypedClient<S> {
  const out: Record<string, unknown> = {};
  const byName = factories as Record<string, MessageFactory<unknown>>;
  for (const [key, def] of Object.entries(service)) {
    if (def.requestStream) continue;
    const factory = byName[key];
    if (!factory) throw new Error(`no request message registered for ${def.path}`);
    out[key] = def.responseStream ? serverStreamMethod(def, factory, ctx) : unaryMethod(def, factory, ctx);
  }
  return out as TypedClient<S>;
}

function methodName(def: MethodDefinition): string {
  return def.path.slice(def.path.lastIndexOf('/') + 1);
}

function interrupted(def: MethodDefinition): RpcError {
  return new RpcError(status.CANCELLED, `${methodName(def)} was interrupted`, { kind: 'interrupted' });
}

function unaryMethod(def: MethodDefinition, factory: MessageFactory<unknown>, ctx: RpcContext) {
  return (req: object = {}, opts: CallOptions = {}): Promise<unknown> => {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(interrupted(def));
    const message = factory.fromPartial(req);
    const started = Date.now();
    const deadline = started + (opts.timeoutMs ?? ctx.rpcTimeoutMs);
    return new Promise((resolve, reject) => {
      let call: ClientUnaryCall | undefined;
      const onAbort = () => call?.cancel();
      call = ctx.client.makeUnaryRequest(
        def.path,
        (value: unknown) => def.requestSerialize(value as never),
        (bytes: Buffer) => def.responseDeserialize(bytes),
        message,
        new Metadata(),
        { deadline },
        (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (!err) {
            log(ctx, def, started, status.OK);
            resolve(res);
            return;
          }
          log(ctx, def, started, err.code);
          translate(err, def, ctx, signal).then(reject, reject);
        },
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
}

function serverStreamMethod(def: MethodDefinition, factory: MessageFactory<unknown>, ctx: RpcContext) {
  return (req: object = {}, opts: CallOptions = {}): AsyncIterable<unknown> => {
    // Completed eagerly so a bad request throws at the call site, not on first iteration.
    const message = factory.fromPartial(req);
    return {
      [Symbol.asyncIterator]: () => readStream(def, message, opts, ctx),
    };
  };
}

async function* readStream(
  def: MethodDefinition,
  message: unknown,
  opts: CallOptions,
  ctx: RpcContext,
): AsyncGenerator<unknown, void, undefined> {
  const { signal } = opts;
  if (signal?.aborted) throw interrupted(def);
  const started = Date.now();
  const call: ClientReadableStream<unknown> = ctx.client.makeServerStreamRequest(
    def.path,
    (value: unknown) => def.requestSerialize(value as never),
    (bytes: Buffer) => def.responseDeserialize(bytes),
    message,
    new Metadata(),
    opts.timeoutMs === undefined ? {} : { deadline: started + opts.timeoutMs },
  );

  const queue: unknown[] = [];
  let failure: ServiceError | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  call.on('data', (m: unknown) => {
    queue.push(m);
    if (queue.length >= READ_AHEAD) call.pause();
    notify();
  });
  // grpc-js emits 'error' right after ending the readable side; 'end' follows once the
  // messages received before the failure have been read, so 'end' is the one terminal event.
  call.on('error', (err: ServiceError) => {
    failure = err;
    notify();
  });
  call.on('end', () => {
    ended = true;
    notify();
  });
  const onAbort = () => call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });

  let code: number = status.OK;
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift();
        continue;
      }
      if (ended) break;
      if (call.isPaused()) call.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure) {
      code = failure.code;
      throw await translate(failure, def, ctx, signal);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!ended) {
      // The consumer stopped early: cancel so the server stops sending.
      code = status.CANCELLED;
      call.cancel();
    }
    log(ctx, def, started, code);
  }
}

function log(ctx: RpcContext, def: MethodDefinition, started: number, code: number): void {
  ctx.debug?.(`rpc ${methodName(def)} ${Date.now() - started}ms ${codeName(code)}`);
}

/**
 * Turns a grpc-js error into an RpcError. UNAVAILABLE is explained by the connection's
 * diagnosis when it has one (grpc-js folds TLS failures into it); a deadline that passed
 * while the channel was still not connected means the server could not be reached.
 */
async function translate(
  err: ServiceError,
  def: MethodDefinition,
  ctx: RpcContext,
  signal: AbortSignal | undefined,
): Promise<RpcError> {
  if (signal?.aborted && err.code === status.CANCELLED) return interrupted(def);
  if (err.code === status.UNAVAILABLE) {
    const diagnosis = await ctx.diagnose?.();
    if (diagnosis) return diagnosis;
  }
  if (
    err.code === status.DEADLINE_EXCEEDED &&
    ctx.client.getChannel().getConnectivityState(false) !== connectivityState.READY
  ) {
    return new RpcError(err.code, `cannot reach ${ctx.endpoint}: connection timed out`, {
      kind: 'unavailable',
      details: err.details,
      cause: err,
    });
  }
  return fromServiceError(err, ctx.endpoint);
}
