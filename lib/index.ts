/**
 * sockjs-express: a SockJS server for Express and Node http.
 * @packageDocumentation
 */
export { sockjsMiddleware, sockjsMiddleware as sockjs, type SockjsRouter } from './middleware';
export { attachUpgrade, type AttachUpgradeOptions } from './upgrade';
export { createServer, listen, SockjsServer, type CompatMiddleware } from './compat/server';
export type { CompatServerOptions, FayeServerOptions, HandlerOptions } from './compat/options';
export type { ServiceStats } from './service';
export {
  Connection,
  type ConnectionEvents,
  type ConnectionLocals,
  type ConnectionEventName,
  type ConnectionListener,
  type ConnectionListenerOf,
} from './session/connection';
export { createBroker, type BrokerOptions } from './broker/in-process';
export type { Broker, ConnectionSource } from './broker/broker';
export { ReadyState } from './session/ready-state';
export type { ConnectionProtocol } from './transports/receiver';
export {
  TRANSPORT_NAMES,
  type SockjsOptions,
  type TransportName,
  type LogFunction,
  type LogSeverity,
  type JsessionidFunction,
  type WebsocketOptions,
  type JsessionidCookieOptions,
  type OriginsOption,
} from './options';
