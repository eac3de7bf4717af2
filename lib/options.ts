import { debuglog } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as WsServerOptions } from 'ws';

/** Severity levels passed to the `log` option, as in sockjs-node. */
export type LogSeverity = 'debug' | 'info' | 'error';

/** Receives the service's log lines. */
export type LogFunction = (severity: LogSeverity, message: string) => void;

/**
 * Sets the JSESSIONID cookie itself, instead of the default
 * `JSESSIONID=<request's value or dummy>; path=/`.
 */
export type JsessionidFunction = (req: IncomingMessage, res: ServerResponse) => void;

/** Server-side transports that can be enabled one by one with the `transports` option. */
export type TransportName =
  'websocket' | 'xhr-streaming' | 'xhr-polling' | 'eventsource' | 'htmlfile' | 'jsonp-polling';

/** Every transport name the `transports` option accepts. */
export const TRANSPORT_NAMES: readonly TransportName[] = Object.freeze([
  'websocket',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
  'htmlfile',
  'jsonp-polling',
]);

/** The `ws` server settings a service passes through (`websocketOptions`). */
export type WebsocketOptions = Pick<
  WsServerOptions,
  'maxPayload' | 'perMessageDeflate' | 'skipUTF8Validation' | 'allowSynchronousEvents'
>;

/** Options of one SockJS service. Every name also has the sockjs-node snake_case alias. */
export interface SockjsOptions {
  /**
   * URL of the sockjs-client script that the iframe page loads (iframe-based transports).
   * Must start with `/` or `http`.
   * @default 'https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js'
   */
  sockjsUrl?: string;
  /**
   * Bytes of frames a streaming response (xhr-streaming, eventsource, htmlfile) may carry
   * before it is ended and the client opens a new one.
   * @default 131072 (128 KiB)
   */
  responseLimit?: number;
  /**
   * Milliseconds a receiving connection may stay idle before an `h` frame is sent.
   * @default 25000
   */
  heartbeatDelay?: number;
  /**
   * Milliseconds a session survives without a receiving connection before it is closed.
   * @default 5000
   */
  disconnectDelay?: number;
  /**
   * Set the JSESSIONID cookie (for load balancers with cookie-based sticky sessions), or a
   * function that sets it. Also makes `info` answer `"cookie_needed": true`.
   * @default false
   */
  jsessionid?: boolean | JsessionidFunction;
  /**
   * The transports to serve. Requests for the others answer 404.
   * @default every transport
   */
  transports?: readonly TransportName[];
  /**
   * Serve the websocket transports (framed and raw). `false` is the same as leaving
   * `websocket` out of `transports`.
   * @default true
   */
  websocket?: boolean;
  /**
   * Do not send CORS headers (when a proxy in front adds its own).
   * @default false
   */
  disableCors?: boolean;
  /**
   * Receives log lines. By default they go to `NODE_DEBUG=sockjs`, and errors also to
   * `process.emitWarning`.
   */
  log?: LogFunction;
  /**
   * Largest request body, in bytes, of a send request (`xhr_send`, `jsonp_send`);
   * larger ones get 413.
   * @default 1048576 (1 MiB)
   */
  maxBodySize?: number;
  /**
   * Settings for the `ws` server behind the websocket transports. `maxPayload` (largest
   * incoming websocket message, bytes) defaults to `maxBodySize`; `perMessageDeflate` to
   * false (compression costs CPU and memory per socket).
   */
  websocketOptions?: WebsocketOptions;

  /** @deprecated alias of `sockjsUrl` */
  sockjs_url?: string;
  /** @deprecated alias of `responseLimit` */
  response_limit?: number;
  /** @deprecated alias of `heartbeatDelay` */
  heartbeat_delay?: number;
  /** @deprecated alias of `disconnectDelay` */
  disconnect_delay?: number;
  /** @deprecated alias of `disableCors` */
  disable_cors?: boolean;
  /** @deprecated alias of `maxBodySize` */
  max_body_size?: number;
  /**
   * sockjs-node's way to switch transports off: the listed ones are not served
   * (`['websocket']` is the same as `websocket: false`).
   */
  disabled_transports?: readonly TransportName[];
}

/** Options after defaults and validation; frozen. */
export interface NormalizedOptions {
  readonly sockjsUrl: string;
  readonly responseLimit: number;
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  readonly jsessionid: false | true | JsessionidFunction;
  readonly transports: ReadonlySet<TransportName>;
  readonly disableCors: boolean;
  readonly log: LogFunction;
  readonly maxBodySize: number;
  readonly websocketOptions: Readonly<WebsocketOptions> & { readonly maxPayload: number };
}

export const DEFAULT_SOCKJS_URL = 'https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js';

/** Pairs of (camelCase name, sockjs-node alias). */
const ALIASES = [
  ['sockjsUrl', 'sockjs_url'],
  ['responseLimit', 'response_limit'],
  ['heartbeatDelay', 'heartbeat_delay'],
  ['disconnectDelay', 'disconnect_delay'],
  ['disableCors', 'disable_cors'],
  ['maxBodySize', 'max_body_size'],
] as const;

type Readable = Record<string, unknown>;

function pick(options: Readable, name: string, alias: string): unknown {
  if (options[name] !== undefined && options[alias] !== undefined && options[name] !== options[alias]) {
    throw new TypeError(`sockjs: options ${name} and ${alias} (its alias) disagree; give one`);
  }
  return options[name] !== undefined ? options[name] : options[alias];
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`sockjs: option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`sockjs: option ${name} must be a boolean, got ${typeof value}`);
  }
  return value;
}

function transportList(name: string, value: unknown): TransportName[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`sockjs: option ${name} must be an array of transport names`);
  }
  for (const item of value) {
    if (!TRANSPORT_NAMES.includes(item as TransportName)) {
      throw new TypeError(
        `sockjs: option ${name} has an unknown transport ${JSON.stringify(item)}; ` +
          `known ones are ${TRANSPORT_NAMES.join(', ')}`,
      );
    }
  }
  return value as TransportName[];
}

/** Validates options once, at creation time, and returns them frozen with defaults. */
export function normalizeOptions(input: SockjsOptions = {}, defaultLog?: LogFunction): NormalizedOptions {
  if (input === null || typeof input !== 'object') {
    throw new TypeError('sockjs: options must be an object');
  }
  const options = input as Readable;
  const values: Record<(typeof ALIASES)[number][0], unknown> = {
    sockjsUrl: undefined,
    responseLimit: undefined,
    heartbeatDelay: undefined,
    disconnectDelay: undefined,
    disableCors: undefined,
    maxBodySize: undefined,
  };
  for (const [name, alias] of ALIASES) values[name] = pick(options, name, alias);

  const sockjsUrl = values.sockjsUrl === undefined ? DEFAULT_SOCKJS_URL : values.sockjsUrl;
  if (typeof sockjsUrl !== 'string' || !/^(\/|http)/.test(sockjsUrl)) {
    throw new TypeError('sockjs: option sockjsUrl must be a string starting with "/" or "http"');
  }

  const jsessionid = options.jsessionid ?? false;
  if (typeof jsessionid !== 'boolean' && typeof jsessionid !== 'function') {
    throw new TypeError('sockjs: option jsessionid must be a boolean or a function (req, res)');
  }

  const transports = new Set<TransportName>(
    options.transports === undefined ? TRANSPORT_NAMES : transportList('transports', options.transports),
  );
  if (options.disabled_transports !== undefined) {
    for (const name of transportList('disabled_transports', options.disabled_transports))
      transports.delete(name);
  }
  if (!booleanOption('websocket', options.websocket, true)) transports.delete('websocket');

  const log = options.log ?? defaultLog ?? defaultLogFunction;
  if (typeof log !== 'function') {
    throw new TypeError('sockjs: option log must be a function (severity, message)');
  }

  const maxBodySize = positiveInteger('maxBodySize', values.maxBodySize, 1024 * 1024);
  const websocketOptions = options.websocketOptions ?? {};
  if (websocketOptions === null || typeof websocketOptions !== 'object') {
    throw new TypeError('sockjs: option websocketOptions must be an object of ws server settings');
  }
  const wsSettings = websocketOptions as WebsocketOptions;

  return Object.freeze({
    sockjsUrl,
    responseLimit: positiveInteger('responseLimit', values.responseLimit, 128 * 1024),
    heartbeatDelay: positiveInteger('heartbeatDelay', values.heartbeatDelay, 25_000),
    disconnectDelay: positiveInteger('disconnectDelay', values.disconnectDelay, 5_000),
    jsessionid: jsessionid as NormalizedOptions['jsessionid'],
    transports,
    disableCors: booleanOption('disableCors', values.disableCors, false),
    log: log as LogFunction,
    maxBodySize,
    websocketOptions: Object.freeze({
      perMessageDeflate: false,
      ...wsSettings,
      maxPayload: positiveInteger('websocketOptions.maxPayload', wsSettings.maxPayload, maxBodySize),
    }),
  });
}

const debug = debuglog('sockjs');

/** NODE_DEBUG=sockjs shows every line; errors are also raised as process warnings. */
export function defaultLogFunction(severity: LogSeverity, message: string): void {
  debug('%s %s', severity, message);
  if (severity === 'error') process.emitWarning(message, 'SockJSWarning');
}
