/**
 * A raw grpc-js client for server tests: connects with an identity file's PEMs (or any
 * key/cert/CA set), verifies the server as `teleport.cluster.local`, and offers promise
 * and async-queue wrappers. Independent of src/client on purpose: server tests exercise
 * the wire, not our client library.
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Event } from '../../src/gen/teleport/legacy/client/proto/authservice.js';
import type { WatchKind } from '../../src/gen/teleport/legacy/types/types.js';
import {
  AccessMonitoringRulesServiceClient,
  AuthServiceClient,
  type AuthServiceServer,
  KubeServiceClient,
} from '../../src/server/grpc-definitions.js';

export interface Pems {
  keyPem: string;
  certPem: string;
  caPems: string[];
}

/** Splits an identity file: 1st PEM block the key, 2nd the certificate, the rest CAs. */
export function parseIdentityPems(text: string): Pems {
  const blocks: string[] = [
    ...(text.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----\n?/g) ?? []),
  ];
  if (blocks.length < 3) throw new Error('identity file needs a key, a certificate and a CA');
  return { keyPem: blocks[0], certPem: blocks[1], caPems: blocks.slice(2) };
}

type UnaryOf<S> = {
  [K in keyof S as S[K] extends grpc.handleUnaryCall<infer _Q, infer _R>
    ? K
    : never]: S[K] extends grpc.handleUnaryCall<infer Q, infer R> ? { req: Q; res: R } : never;
};
type StreamOf<S> = {
  [K in keyof S as S[K] extends grpc.handleServerStreamingCall<infer _Q, infer _R>
    ? K
    : never]: S[K] extends grpc.handleServerStreamingCall<infer Q, infer R> ? { req: Q; res: R } : never;
};
export type AuthUnary = UnaryOf<AuthServiceServer>;
export type AuthStream = StreamOf<AuthServiceServer>;

export interface TestClient {
  auth: AuthServiceClient;
  kube: KubeServiceClient;
  amr: AccessMonitoringRulesServiceClient;
  /** A unary AuthService call; rejects with the grpc ServiceError. */
  call<K extends keyof AuthUnary>(
    method: K,
    req: AuthUnary[K]['req'],
    timeoutMs?: number,
  ): Promise<AuthUnary[K]['res']>;
  /** Every message of a server stream. */
  collect<K extends keyof AuthStream>(method: K, req: AuthStream[K]['req']): Promise<AuthStream[K]['res'][]>;
  close(): void;
}

/** Options that keep test clients alive on long watches and fail fast when the server is gone. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.ssl_target_name_override': 'teleport.cluster.local',
  'grpc.default_authority': 'teleport.cluster.local',
  'grpc.keepalive_time_ms': 30_000,
  'grpc.max_reconnect_backoff_ms': 1000,
  // Separate channels per client so concurrency tests really use many connections.
  'grpc.use_local_subchannel_pool': 1,
};

export function connectPems(addr: string, pems: Pems): TestClient {
  const creds = grpc.credentials.createSsl(
    Buffer.from(pems.caPems.join('')),
    Buffer.from(pems.keyPem),
    Buffer.from(pems.certPem),
  );
  const auth = new AuthServiceClient(addr, creds, CHANNEL_OPTIONS);
  const kube = new KubeServiceClient(addr, creds, CHANNEL_OPTIONS);
  const amr = new AccessMonitoringRulesServiceClient(addr, creds, CHANNEL_OPTIONS);
  return {
    auth,
    kube,
    amr,
    call(method, req, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const fn = (auth as unknown as Record<string, (...a: unknown[]) => unknown>)[method as string].bind(
          auth,
        );
        fn(
          req,
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res as never)),
        );
      });
    },
    collect(method, req) {
      return new Promise((resolve, reject) => {
        const fn = (
          auth as unknown as Record<string, (...a: unknown[]) => grpc.ClientReadableStream<unknown>>
        )[method as string].bind(auth);
        const stream = fn(req, new grpc.Metadata(), { deadline: Date.now() + 20_000 });
        const out: unknown[] = [];
        stream.on('data', (m) => out.push(m));
        stream.on('error', reject);
        stream.on('end', () => resolve(out as never));
      });
    },
    close() {
      auth.close();
      kube.close();
      amr.close();
    },
  };
}

export async function connectIdentity(addr: string, identityPath: string): Promise<TestClient> {
  return connectPems(addr, parseIdentityPems(await readFile(identityPath, 'utf8')));
}

/** Pulls items from a stream one at a time, each wait bounded. */
export class StreamQueue<T> {
  private items: T[] = [];
  private waiters: { resolve: (v: T) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  private ended = false;

  constructor(readonly stream: grpc.ClientReadableStream<T>) {
    stream.on('data', (item: T) => {
      const w = this.waiters.shift();
      if (w) w.resolve(item);
      else this.items.push(item);
    });
    stream.on('error', (err: Error) => this.fail(err));
    stream.on('end', () => {
      this.ended = true;
      this.fail(new Error('stream ended'));
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** The next item, or a rejection after `timeoutMs` or when the stream fails. */
  next(timeoutMs = 5000): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (v: T) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no stream item within ${timeoutMs}ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves with the stream's final error (or rejects if none comes in time). */
  async closed(timeoutMs = 5000): Promise<Error> {
    while (!this.failure) {
      try {
        await this.next(timeoutMs);
      } catch (err) {
        return err as Error;
      }
    }
    return this.failure;
  }

  get done(): boolean {
    return this.ended || this.failure !== undefined;
  }

  cancel(): void {
    this.stream.cancel();
  }
}

/**
 * Opens a watch on access requests (or on the watch kinds given); the caller should await the
 * INIT event first.
 */
export function watchRequests(
  client: TestClient,
  filter: Record<string, string> = {},
  kinds: WatchKind[] = [
    { kind: 'access_request', loadSecrets: false, name: '', filter, subKind: '', version: '' },
  ],
): StreamQueue<Event> {
  const stream = client.auth.watchEvents({ kinds, allowPartialSuccess: false });
  return new StreamQueue(stream);
}

/** The gRPC status a call fails with; throws when it succeeds. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { code: e.code, details: e.details };
  }
  throw new Error('expected the call to fail');
}
