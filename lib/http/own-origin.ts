import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ProxyTrust } from '../internals';

/** A Host value we compare: a DNS name or an IPv4/IPv6 literal, and an optional port. */
const HOST = /^(?:[a-z0-9_.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/i;

/** Longest Host a same-origin check reads: hostnames are at most 253 characters. */
const MAX_HOST_LENGTH = 300;

/** Where a request was sent, as the app sees it. */
interface RequestTarget {
  /** Whether it arrived over TLS (at this server or at a trusted proxy). */
  readonly secure: boolean;
  /** The Host it was sent to, with its port; undefined when no Host was given. */
  readonly host: string | undefined;
}

/** The first value of a header a proxy may have appended to (`a, b` or repeated). */
function firstValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text === '') return undefined;
  const comma = text.indexOf(',');
  return (comma === -1 ? text : text.slice(0, comma)).trim();
}

function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase();
}

/**
 * The host and scheme the client used, the way Express works them out: X-Forwarded-Host and
 * X-Forwarded-Proto count only when `trust` (the app's `trust proxy`) trusts the peer.
 */
function requestTarget(req: IncomingMessage, trust: ProxyTrust | null): RequestTarget {
  const encrypted = (req.socket as Partial<TLSSocket>).encrypted === true;
  if (trust !== null) {
    if (!trust(req.socket.remoteAddress ?? '', 0)) return { secure: encrypted, host: req.headers.host };
    const proto = firstValue(req, 'x-forwarded-proto');
    return {
      secure: proto === undefined ? encrypted : proto.toLowerCase() === 'https',
      host: firstValue(req, 'x-forwarded-host') ?? req.headers.host,
    };
  }
  // Without the app's rule, Express's own answers: hostname and protocol (public, trust
  // proxy honoured), and the port of whichever header carried that hostname.
  const routed = req as { hostname?: unknown; protocol?: unknown };
  if (typeof routed.hostname !== 'string' || typeof routed.protocol !== 'string') {
    return { secure: encrypted, host: req.headers.host };
  }
  const hostname = routed.hostname.toLowerCase();
  const host = [req.headers.host, firstValue(req, 'x-forwarded-host')].find(
    (candidate) => candidate !== undefined && hostnameOf(candidate) === hostname,
  );
  return { secure: routed.protocol === 'https', host: host ?? routed.hostname };
}

/**
 * Whether `origin` (an Origin header, or the origin of a Referer) is the service's own: the
 * scheme, host and port the request was sent to. A request that arrived over TLS needs an
 * `https` origin; one that arrived over plain HTTP may also come from its `https` twin, since
 * a proxy that ends TLS without `trust proxy` makes every request look like plain HTTP.
 */
export function isOwnOrigin(origin: string, req: IncomingMessage, trust: ProxyTrust | null): boolean {
  const scheme = origin.startsWith('https://') ? 'https:' : origin.startsWith('http://') ? 'http:' : null;
  if (scheme === null) return false;
  const target = requestTarget(req, trust);
  if (target.secure && scheme === 'http:') return false;
  const host = target.host;
  if (host === undefined || host.length > MAX_HOST_LENGTH || !HOST.test(host)) return false;
  try {
    // URL writes the host as browsers write origins: lower case, default port left out.
    return new URL(`${scheme}//${host}`).origin === origin;
  } catch {
    return false;
  }
}

/** The service's own origin as a request sees it, for log lines. */
export function ownOriginOf(req: IncomingMessage, trust: ProxyTrust | null): string {
  const target = requestTarget(req, trust);
  return `${target.secure ? 'https' : 'http'}://${target.host ?? '(no Host)'}`;
}
