export { type AlpnBridge, type AlpnBridgeOptions, authAlpnProtocol, startAlpnBridge } from './alpn-bridge.js';
export {
  assertCertificateCurrent,
  type Connection,
  type ConnectOptions,
  clusterFromCredentials,
  connect,
  DEFAULT_AUTH_PORT,
  DEFAULT_PROXY_PORT,
  DEFAULT_RPC_TIMEOUT_MS,
  DEFAULT_TLS_SERVER_NAME,
  type HostPort,
  parseHostPort,
} from './connect.js';
export {
  classifyConnectError,
  fromStatus,
  isRpcError,
  kindForCode,
  RpcError,
  type StatusName,
  statusName,
  type TlsContext,
} from './errors.js';
export {
  type FreshIdentity,
  issueFreshIdentity,
  type Reissued,
  type ReissueOptions,
  reissueCertificates,
  writeBackCredentials,
} from './reissue.js';
export {
  type CallOptions,
  createTypedClient,
  type DeepPartial,
  type MessageType,
  type MethodDefinition,
  type RpcContext,
  type ServiceDefinition,
  type TypedClient,
} from './rpc.js';
export {
  backoffDelay,
  isRetryableWatchError,
  sleep,
  type WaitOptions,
  type WaitOutcome,
  type WaitResult,
  waitForResolution,
} from './wait.js';
