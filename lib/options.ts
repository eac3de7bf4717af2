import { debuglog } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZlibOptions } from 'node:zlib';
import { OWN_ORIGIN, originPolicy, type OriginPolicy } from './http/origin';
import { closestName } from './closest-name';
import { describeValue } from './describe-value';

/** Severity levels passed to the `log` option, as in sockjs-node. */
export type LogSeverity = 'debug' | 'info' | 'error';

/** Receives the service's log lines. */
export type LogFunction = (severity: LogSeverity, message: string) => void;

/**
 * Sets the JSESSIONID cookie itself, instead of the default
 * `JSESSIONID=<request's value or dummy>; path=/`.
 */
export type JsessionidFunction = (req: IncomingMessage, res: ServerResponse) => void;

/** Attributes of the JSESSIONID cookie (the `jsessionid` option's object form). */
export interface JsessionidCookieOptions {
  /** @default none (the browser's default, Lax) */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** @default false; SameSite=None needs it */
  secure?: boolean;
  /** @default false */
  httpOnly?: boolean;
}

/**
 * Which browser origins may use the service: `'*'` (every origin), `'same-origin'` (the
 * service's own origin), or a list of exact origins (`https://example.com`), patterns with
 * `*` (`https://*.example.com`), `'same-origin'`, `'null'` and regular expressions, or a
 * function that returns `true` for the origins it allows.
 */
export type OriginsOption =
  '*' | 'same-origin' | readonly (string | RegExp)[] | ((origin: string, req: IncomingMessage) => boolean);

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

/**
 * ws's permessage-deflate settings (`websocketOptions.perMessageDeflate`), as ws documents
 * them. Written out here rather than imported so that the published types need no
 * `@types/ws`; lib/websocket/ws-settings.ts fails the build if they drift from ws's.
 */
export interface PerMessageDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
  zlibDeflateOptions?: {
    flush?: number;
    finishFlush?: number;
    chunkSize?: number;
    windowBits?: number;
    level?: number;
    memLevel?: number;
    strategy?: number;
    dictionary?: Buffer | Buffer[] | DataView;
    info?: boolean;
  };
  zlibInflateOptions?: ZlibOptions;
  /** Messages smaller than this many bytes are sent uncompressed. */
  threshold?: number;
  /** Compression jobs run at once, per process. */
  concurrencyLimit?: number;
}

/**
 * The `ws` server settings a service passes through (`websocketOptions`). The same types as
 * ws's `ServerOptions` fields, checked against them when this package is built.
 */
export interface WebsocketOptions {
  /** Largest incoming WebSocket message, in bytes. */
  maxPayload?: number;
  /** WebSocket compression: `true`, or ws's settings object. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Skip UTF-8 validation of incoming text messages. */
  skipUTF8Validation?: boolean;
  /** As in ws: whether several `message`, `ping` and `pong` events may fire in one tick. */
  allowSynchronousEvents?: boolean;
}

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
   * function that sets it, or the cookie attributes to set it with. Also makes `info`
   * answer `"cookie_needed": true`.
   * @default false
   */
  jsessionid?: boolean | JsessionidFunction | JsessionidCookieOptions;
  /**
   * Browser origins allowed to use the service. A request whose `Origin` (or, without
   * one, whose `Referer`) is not allowed gets 403 and no session: the defence against
   * cross-site request forgery and WebSocket hijacking. Requests that carry neither header
   * come from non-browser clients and are allowed, except on jsonp-polling, htmlfile and the
   * iframe page while origins are restricted. The own origin is the scheme and host the
   * request was sent to, as Express sees them (`trust proxy` honoured). `'*'` allows every
   * origin, as the SockJS protocol does (and `createServer()` by default).
   * @default 'same-origin'
   */
  origins?: OriginsOption;
  /**
   * Most sessions open at once; a new one past it gets 503. 0 means no limit.
   * @default 0
   */
  maxSessions?: number;
  /**
   * Bytes written by the application but not yet taken by the client (queued, or waiting
   * in the socket) past which the session is closed with 1013 "Client not reading".
   * @default 4194304 (4 MiB)
   */
  maxQueuedBytes?: number;
  /**
   * Pending bytes above which `conn.write()` returns false; `drain` follows once the
   * client has taken them.
   * @default 65536 (64 KiB)
   */
  highWaterMark?: number;
  /**
   * Serve the follow-up requests of existing sessions (sends and polls) straight from the
   * HTTP server, before the Express app: much cheaper per message, but middleware runs
   * only for the request that opens a session. See the guide before turning it on.
   * @default false
   */
  fastPath?: boolean;
  /**
   * Serve the HTTP requests of a session only from the client address of the request that
   * opened it, as the app reads it (`req.ip`, which follows Express's `trust proxy`);
   * requests from any other get the unknown session's 404. Clients that change address
   * (mobile networks) lose their session and reconnect. WebSocket sessions live and die with
   * their socket, so they need none.
   * @default false
   */
  bindSessionToAddress?: boolean;
  /**
   * Milliseconds a send request's body may stall before the request gets 408.
   * @default 10000
   */
  bodyTimeout?: number;
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

  /**
   * A URL `info` hands to clients for their transport requests (sockjs-client uses it
   * instead of the URL it was given): for deployments where info and the sessions are
   * served from different places.
   * @default none
   */
  baseUrl?: string;
  /** @deprecated alias of `baseUrl` */
  base_url?: string;

  /** @deprecated alias of `bindSessionToAddress`; use the camelCase name */
  bind_session_to_address?: boolean;
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
  readonly jsessionid: false | true | JsessionidFunction | Readonly<JsessionidCookieOptions>;
  readonly origins: OriginPolicy;
  /** Infinity when off. */
  readonly maxSessions: number;
  readonly maxQueuedBytes: number;
  readonly highWaterMark: number;
  readonly bodyTimeout: number;
  readonly fastPath: boolean;
  readonly bindSessionToAddress: boolean;
  /** null: info carries no base_url. */
  readonly baseUrl: string | null;
  readonly transports: ReadonlySet<TransportName>;
  readonly disableCors: boolean;
  readonly log: LogFunction;
  readonly maxBodySize: number;
  readonly websocketOptions: Readonly<WebsocketOptions> & { readonly maxPayload: number };
}

export const DEFAULT_SOCKJS_URL = 'https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js';

/** Every option name, camelCase first: the compiler checks that none is missing or extra. */
const OPTION_NAMES: Readonly<Record<keyof SockjsOptions, true>> = {
  sockjsUrl: true,
  responseLimit: true,
  heartbeatDelay: true,
  disconnectDelay: true,
  jsessionid: true,
  origins: true,
  maxSessions: true,
  maxQueuedBytes: true,
  highWaterMark: true,
  fastPath: true,
  bindSessionToAddress: true,
  bodyTimeout: true,
  transports: true,
  websocket: true,
  disableCors: true,
  log: true,
  maxBodySize: true,
  websocketOptions: true,
  baseUrl: true,
  base_url: true,
  bind_session_to_address: true,
  sockjs_url: true,
  response_limit: true,
  heartbeat_delay: true,
  disconnect_delay: true,
  disable_cors: true,
  max_body_size: true,
  disabled_transports: true,
};

/** The names `SockjsOptions` has, sockjs-node's aliases included. */
export const SERVICE_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(OPTION_NAMES));

/** Whether `name` is one of SERVICE_OPTION_NAMES. */
export function isServiceOptionName(name: string): boolean {
  return Object.hasOwn(OPTION_NAMES, name);
}

/** "unknown option responseLimt; did you mean responseLimit?", the suggestion from `known`. */
export function unknownOptionMessage(name: string, known: readonly string[]): string {
  const closest = closestName(name, known);
  return `unknown option ${name}` + (closest === null ? '' : `; did you mean ${closest}?`);
}

/**
 * Throws for the first name that is no option: a typo would otherwise leave the option at
 * its default without a word. `prefix`, sockjs-node's way to place a service, gets the
 * Express way instead.
 */
function rejectUnknownNames(options: Readable): void {
  for (const name of Object.keys(options)) {
    if (isServiceOptionName(name)) continue;
    if (name === 'prefix') {
      throw new TypeError(
        "sockjs: sockjsMiddleware() has no prefix option; mount it where it should answer: app.use('/echo', sockjsMiddleware())",
      );
    }
    throw new TypeError('sockjs: ' + unknownOptionMessage(name, SERVICE_OPTION_NAMES));
  }
}

/** Pairs of (camelCase name, sockjs-node alias). */
const ALIASES = [
  ['sockjsUrl', 'sockjs_url'],
  ['responseLimit', 'response_limit'],
  ['heartbeatDelay', 'heartbeat_delay'],
  ['disconnectDelay', 'disconnect_delay'],
  ['disableCors', 'disable_cors'],
  ['maxBodySize', 'max_body_size'],
  ['baseUrl', 'base_url'],
  ['bindSessionToAddress', 'bind_session_to_address'],
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
    throw new TypeError(`sockjs: option ${name} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`sockjs: option ${name} must be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

function transportList(name: string, value: unknown): TransportName[] {
  if (!Array.isArray(value)) {
    throw new TypeError(
      `sockjs: option ${name} must be an array of transport names, got ${describeValue(value)}`,
    );
  }
  for (const item of value) {
    if (!TRANSPORT_NAMES.includes(item as TransportName)) {
      const what =
        typeof item === 'string' ? `an unknown transport ${JSON.stringify(item)}` : describeValue(item);
      throw new TypeError(`sockjs: option ${name} has ${what}; known ones are ${TRANSPORT_NAMES.join(', ')}`);
    }
  }
  return value as TransportName[];
}

/** Validates options once, at creation time, and returns them frozen with defaults. */
export function normalizeOptions(input: SockjsOptions = {}, defaultLog?: LogFunction): NormalizedOptions {
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`sockjs: options must be an object, got ${describeValue(input)}`);
  }
  const options = input as Readable;
  rejectUnknownNames(options);
  const values: Record<(typeof ALIASES)[number][0], unknown> = {
    sockjsUrl: undefined,
    responseLimit: undefined,
    heartbeatDelay: undefined,
    disconnectDelay: undefined,
    disableCors: undefined,
    maxBodySize: undefined,
    baseUrl: undefined,
    bindSessionToAddress: undefined,
  };
  for (const [name, alias] of ALIASES) values[name] = pick(options, name, alias);

  const sockjsUrl = values.sockjsUrl === undefined ? DEFAULT_SOCKJS_URL : values.sockjsUrl;
  if (typeof sockjsUrl !== 'string' || !/^(\/|http)/.test(sockjsUrl)) {
    throw new TypeError(
      `sockjs: option sockjsUrl must be a string starting with "/" or "http", got ${describeValue(sockjsUrl)}`,
    );
  }

  const jsessionid = jsessionidOption(options.jsessionid);
  const maxSessions =
    options.maxSessions === undefined || options.maxSessions === 0
      ? Infinity
      : positiveInteger('maxSessions', options.maxSessions, 0);

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
    throw new TypeError(
      `sockjs: option log must be a function (severity, message), got ${describeValue(log)}`,
    );
  }

  const maxBodySize = positiveInteger('maxBodySize', values.maxBodySize, 1024 * 1024);
  const websocketOptions = options.websocketOptions ?? {};
  if (websocketOptions === null || typeof websocketOptions !== 'object') {
    throw new TypeError(
      `sockjs: option websocketOptions must be an object of ws server settings, got ${describeValue(websocketOptions)}`,
    );
  }
  const wsSettings = websocketOptions as WebsocketOptions;

  return Object.freeze({
    sockjsUrl,
    responseLimit: positiveInteger('responseLimit', values.responseLimit, 128 * 1024),
    heartbeatDelay: positiveInteger('heartbeatDelay', values.heartbeatDelay, 25_000),
    disconnectDelay: positiveInteger('disconnectDelay', values.disconnectDelay, 5_000),
    jsessionid,
    origins: originsOption(options.origins),
    maxSessions,
    maxQueuedBytes: positiveInteger('maxQueuedBytes', options.maxQueuedBytes, 4 * 1024 * 1024),
    highWaterMark: positiveInteger('highWaterMark', options.highWaterMark, 64 * 1024),
    bodyTimeout: positiveInteger('bodyTimeout', options.bodyTimeout, 10_000),
    fastPath: booleanOption('fastPath', options.fastPath, false),
    bindSessionToAddress: booleanOption('bindSessionToAddress', values.bindSessionToAddress, false),
    baseUrl: baseUrlOption(values.baseUrl),
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

function jsessionidOption(value: unknown): NormalizedOptions['jsessionid'] {
  if (value === undefined) return false;
  if (typeof value === 'boolean' || typeof value === 'function')
    return value as NormalizedOptions['jsessionid'];
  if (value !== null && typeof value === 'object') {
    const cookie = value as JsessionidCookieOptions;
    if (cookie.sameSite !== undefined && !['Strict', 'Lax', 'None'].includes(cookie.sameSite)) {
      throw new TypeError(
        `sockjs: option jsessionid.sameSite must be "Strict", "Lax" or "None", got ${describeValue(cookie.sameSite)}`,
      );
    }
    booleanOption('jsessionid.secure', cookie.secure, false);
    booleanOption('jsessionid.httpOnly', cookie.httpOnly, false);
    return Object.freeze({ ...cookie });
  }
  throw new TypeError(
    `sockjs: option jsessionid must be a boolean, a function (req, res) or cookie attributes, got ${describeValue(value)}`,
  );
}

function baseUrlOption(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !/^(\/|https?:\/\/)/.test(value)) {
    throw new TypeError(
      `sockjs: option baseUrl must be a URL starting with "/", "http://" or "https://", got ${describeValue(value)}`,
    );
  }
  return value.replace(/\/$/, '');
}

/** The shape of `origins` checked here, so that a wrong one is told what it was. */
function originsOption(value: unknown): OriginPolicy {
  if (typeof value === 'string' && value !== '*' && value !== 'same-origin') {
    throw new TypeError(
      `sockjs: option origins must be '*', 'same-origin', an array of origins and patterns, or a function, got ${describeValue(value)}; write [${JSON.stringify(value)}] for one origin`,
    );
  }
  if (
    value !== undefined &&
    typeof value !== 'string' &&
    typeof value !== 'function' &&
    !Array.isArray(value)
  ) {
    throw new TypeError(
      `sockjs: option origins must be '*', 'same-origin', an array of origins and patterns, or a function, got ${describeValue(value)}`,
    );
  }
  if (Array.isArray(value)) {
    for (const entry of value as unknown[]) {
      if (typeof entry !== 'string' && !(entry instanceof RegExp)) {
        throw new TypeError(
          `sockjs: option origins has ${describeValue(entry)}; use strings or regular expressions`,
        );
      }
    }
  }
  return originPolicy(value, OWN_ORIGIN);
}
