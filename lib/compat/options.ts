import { format } from 'node:util';
import { SERVICE_OPTION_NAMES, isServiceOptionName, unknownOptionMessage } from '../options';
import type { LogFunction, SockjsOptions } from '../options';
import { describeValue } from '../describe-value';
import { startsWithSegment } from '../http/mount';

/** faye-websocket server settings sockjs-node accepted; mapped onto `ws` (see docs). */
export interface FayeServerOptions {
  /** Largest incoming message, bytes: becomes `websocketOptions.maxPayload`. */
  maxLength?: number;
  /** Same as `maxLength`. */
  max_length?: number;
  /** Any extension (permessage-deflate) turns `websocketOptions.perMessageDeflate` on. */
  extensions?: readonly unknown[];
  /** Seconds between pings: dead peers are found at `heartbeatDelay` here instead. */
  ping?: number;
}

/** Options of `createServer()`: the service options plus sockjs-node's own. */
export interface CompatServerOptions extends SockjsOptions {
  /**
   * Where the service is mounted on the http server, e.g. `/echo`. As in sockjs-node it is
   * a regular-expression source, so `[/]echo` works too.
   * @default ''
   */
  prefix?: string;
  /** sockjs-node's websocket server settings, mapped to `websocketOptions`. */
  faye_server_options?: FayeServerOptions | null;
}

/** Per-installation overrides, as in `installHandlers(server, { prefix })`. */
export type HandlerOptions = Partial<CompatServerOptions>;

/** sockjs-node's default: every log line printed to standard output, as sockjs-node did. */
export const printLine: LogFunction = (_severity, message) => {
  process.stdout.write(format(message) + '\n');
};

/** The names createServer() knows: the service options and sockjs-node's own. */
const COMPAT_OPTION_NAMES: readonly string[] = [...SERVICE_OPTION_NAMES, 'prefix', 'faye_server_options'];

/** What splitCompatOptions() makes of compatible options. */
export interface SplitCompatOptions {
  readonly prefix: string;
  readonly service: SockjsOptions;
  /**
   * The unknown names, left out of `service`: sockjs-node ignored names it did not know, so a
   * migration must not break on one; the caller logs ignoredOptionMessage() for each.
   */
  readonly ignored: readonly string[];
}

/** "unknown option responseLimt; did you mean responseLimit? (ignored, as sockjs-node did)" */
export function ignoredOptionMessage(name: string): string {
  return `${unknownOptionMessage(name, COMPAT_OPTION_NAMES)} (ignored, as sockjs-node did)`;
}

/** Splits compat options into the prefix and the service options, leaving unknown names out. */
export function splitCompatOptions(options: CompatServerOptions): SplitCompatOptions {
  const { prefix, faye_server_options, ...named } = options;
  const service: SockjsOptions = {};
  const ignored: string[] = [];
  for (const [name, value] of Object.entries(named)) {
    if (isServiceOptionName(name)) (service as Record<string, unknown>)[name] = value;
    else ignored.push(name);
  }
  const chosen = prefix ?? '';
  if (typeof chosen !== 'string') {
    throw new TypeError(`sockjs: option prefix must be a string, got ${describeValue(chosen)}`);
  }
  if (faye_server_options) {
    const ws = { ...service.websocketOptions };
    const maxLength = faye_server_options.maxLength ?? faye_server_options.max_length;
    if (maxLength !== undefined && ws.maxPayload === undefined) ws.maxPayload = maxLength;
    if (faye_server_options.extensions !== undefined && faye_server_options.extensions.length > 0) {
      ws.perMessageDeflate ??= true;
    }
    service.websocketOptions = ws;
  }
  return { prefix: chosen.replace(/\/$/, ''), service, ignored };
}

/** The base URL a request is under (the start of its URL), or null when it is not. */
export type PrefixMatcher = (url: string) => string | null;

/** Characters that make a prefix a pattern rather than a plain path. */
const PATTERN_SYNTAX = /[\\^$.*+?()[\]{}|]/;

/**
 * The prefix as sockjs-node reads it: a regular-expression source matched at the start of
 * the path, ending where a path segment ends. A plain path, the usual case, is compared as
 * text, with no match object per request.
 */
export function prefixMatcher(prefix: string): PrefixMatcher {
  if (!PATTERN_SYNTAX.test(prefix)) {
    return (url) => (startsWithSegment(url, prefix) ? prefix : null);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp('^' + prefix + '(?=/|$)');
  } catch {
    throw new TypeError(`sockjs: option prefix ${JSON.stringify(prefix)} is not a valid pattern`);
  }
  return (url) => {
    const query = url.indexOf('?');
    const match = pattern.exec(query === -1 ? url : url.slice(0, query));
    return match === null ? null : match[0];
  };
}
