import type { IncomingMessage } from 'node:http';
import type { ProxyTrust } from '../internals';
import { originPattern } from './origin-pattern';
import { isOwnOrigin, ownOriginOf } from './own-origin';

/**
 * Longest origin a rule looks at, from the Origin header or a Referer: real ones are far
 * shorter, and a rule (a function, a regular expression) should not get unbounded input.
 */
export const MAX_ORIGIN_LENGTH = 2048;

/** A rule of the `origins` option: whether a browser origin may use the service. */
export type OriginRule = (origin: string, req: IncomingMessage, trust: ProxyTrust | null) => boolean;

/** Which browser origins may use a service: the `origins` option, compiled. */
export interface OriginPolicy {
  /** `every`: `origins: '*'`; `own`: the default, the service's own origin; `listed`: the rest. */
  readonly kind: 'every' | 'own' | 'listed';
  readonly allows: OriginRule;
}

export const EVERY_ORIGIN: OriginPolicy = Object.freeze({ kind: 'every', allows: () => true });
export const OWN_ORIGIN: OriginPolicy = Object.freeze({ kind: 'own', allows: isOwnOrigin });

/**
 * One entry of an `origins` list. `*` in a pattern never matches the literal origin `null`
 * (sandboxed frames, `file:` and `data:` pages, which any site can make): only the entry
 * `'null'` itself, or a regular expression that matches it, lets `null` in.
 */
function listEntry(entry: unknown): OriginRule {
  if (entry instanceof RegExp) {
    return (origin) => {
      entry.lastIndex = 0; // a /g or /y expression keeps where its last match ended
      return entry.test(origin);
    };
  }
  if (typeof entry !== 'string') {
    throw new TypeError(`sockjs: option origins has ${String(entry)}; use strings or regular expressions`);
  }
  if (entry === 'same-origin') return isOwnOrigin;
  if (entry === 'null') return (origin) => origin === 'null';
  const matches = originPattern(entry.replace(/\/$/, ''));
  return (origin) => origin !== 'null' && matches(origin);
}

/** Compiles the `origins` option; undefined gives `fallback` (same-origin, or every origin). */
export function originPolicy(value: unknown, fallback: OriginPolicy): OriginPolicy {
  if (value === undefined) return fallback;
  if (value === '*') return EVERY_ORIGIN;
  if (value === 'same-origin') return OWN_ORIGIN;
  if (typeof value === 'function') {
    const decide = value as (origin: string, req: IncomingMessage) => unknown;
    // Only `true` allows: an async function's promise must not count as a yes.
    const allows: OriginRule = (origin, req) => decide(origin, req) === true;
    return Object.freeze({ kind: 'listed', allows });
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      "sockjs: option origins must be '*', 'same-origin', an array of origins and patterns, or a function",
    );
  }
  if (value.includes('*')) return EVERY_ORIGIN;
  const rules = value.map(listEntry);
  const allows: OriginRule = (origin, req, trust) => rules.some((rule) => rule(origin, req, trust));
  return Object.freeze({ kind: 'listed', allows });
}

/**
 * The origin a browser request comes from: its Origin, or without one the origin of its
 * Referer (script and frame loads send no Origin). Undefined when it has neither (a
 * non-browser client, or a page that hid both); null when it names no origin we could allow
 * (an unparsable Referer, or one past MAX_ORIGIN_LENGTH).
 */
export function requestOrigin(req: IncomingMessage): string | null | undefined {
  // One read of `req.headers`, a getter: under Express its every call is a slow lookup.
  const headers = req.headers;
  const origin = headers.origin;
  if (origin !== undefined) return origin.length > MAX_ORIGIN_LENGTH ? null : origin;
  const referer = headers.referer;
  if (referer === undefined) return undefined;
  try {
    const derived = new URL(referer).origin;
    return derived.length > MAX_ORIGIN_LENGTH ? null : derived;
  } catch {
    return null;
  }
}

/** Refusals logged, one line per origin; past this many origins, no more lines. */
const MAX_LOGGED_ORIGINS = 1000;
/** The longest piece of a refused origin a log line quotes. */
const MAX_QUOTED = 200;

/**
 * The `origins` option at the door of a service: which requests may go on, with one log
 * line for the first refusal of each origin, so a misconfiguration shows up once and a
 * flood of foreign origins cannot flood the log.
 */
export class OriginGate {
  private readonly logged = new Set<string>();

  constructor(
    private readonly policy: OriginPolicy,
    private readonly log: (message: string) => void,
  ) {}

  /** True under the default `origins: 'same-origin'`: only the service's own pages. */
  get ownOnly(): boolean {
    return this.policy.kind === 'own';
  }

  /** False under `origins: '*'`: nothing is refused for its origin. */
  get restricted(): boolean {
    return this.policy.kind !== 'every';
  }

  /**
   * Whether a request may use the service: its origin is allowed, or it has neither Origin
   * nor Referer (non-browser clients, which no origin rule can stop).
   */
  admits(req: IncomingMessage, trustOf: (req: IncomingMessage) => ProxyTrust | null): boolean {
    const policy = this.policy;
    if (policy.kind === 'every') return true;
    const origin = requestOrigin(req);
    if (origin === undefined) return true;
    // The proxy rule is looked up only for requests that name an origin.
    const trust = trustOf(req);
    if (origin !== null && policy.allows(origin, req, trust)) return true;
    this.logRefusal(origin ?? String(req.headers.origin ?? req.headers.referer), req, trust);
    return false;
  }

  /**
   * Whether a script or frame transport request must be refused for carrying neither Origin
   * nor Referer: a page can strip both from a script tag, a frame or a form, so while
   * origins are restricted, such a request could come from any page.
   */
  refusesAnonymous(req: IncomingMessage): boolean {
    if (this.policy.kind === 'every') return false;
    if (req.headers.origin !== undefined || req.headers.referer !== undefined) return false;
    this.logOnce(
      '',
      'Refused with 403 a jsonp-polling, htmlfile or iframe page request that carries neither ' +
        'Origin nor Referer: a page can hide both from a script tag, a form or a frame, so while ' +
        "the origins option restricts origins these requests need one. Set origins: '*' to allow " +
        'every origin.',
    );
    return true;
  }

  private logRefusal(origin: string, req: IncomingMessage, trust: ProxyTrust | null): void {
    const key = origin.slice(0, MAX_QUOTED);
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED_ORIGINS) return;
    const quoted = JSON.stringify(origin.length > MAX_QUOTED ? `${key}...` : origin);
    const why =
      this.policy.kind === 'own'
        ? `by default only the service's own origin (${ownOriginOf(req, trust)}) may use it`
        : 'it is not allowed by the origins option';
    this.logOnce(
      key,
      `Refused with 403 a request from origin ${quoted}: ${why}. To allow it, list it in the ` +
        `origins option (origins: [${quoted}]), or set origins: '*' for every origin.`,
    );
  }

  private logOnce(key: string, message: string): void {
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED_ORIGINS) return;
    this.logged.add(key);
    this.log(message);
  }
}
