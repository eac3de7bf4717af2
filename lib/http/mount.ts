import type { IncomingMessage } from 'node:http';

/**
 * What routers add to a request: `originalUrl` (Express and Connect, the URL as it came
 * in) and `baseUrl` (Express only, the mount path of the innermost Express router chain).
 */
interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  originalUrl?: string;
}

/**
 * Where the service is mounted ('' at the root or outside any router): what the routers in
 * front took off the start of the URL. Read from `originalUrl` and `url` rather than
 * `baseUrl`, because Connect sets no `baseUrl`, and an Express app mounted in a Connect app
 * knows only its own part of the mount.
 */
export function mountPath(req: IncomingMessage): string {
  const originalUrl = (req as RoutedRequest).originalUrl;
  const below = req.url ?? '/';
  if (typeof originalUrl === 'string' && originalUrl !== below) {
    const removed = removedPrefix(originalUrl, below);
    if (removed !== null) return removed;
  }
  // A middleware rewrote the URL into something else: Express's word is all there is.
  // Read only here: under Express each property read of a request costs a slow lookup.
  return (req as RoutedRequest).baseUrl ?? '';
}

/**
 * The start of `original` that a router removed to leave `below`, or null when `below` is
 * not what is left of `original`. Routers put a '/' in front of what is left when the
 * mount took the whole path (`/echo` leaves `/`, `/echo?x` leaves `/?x`).
 */
function removedPrefix(original: string, below: string): string | null {
  let kept = below;
  if (!original.endsWith(kept)) {
    if (!kept.startsWith('/') || !original.endsWith(kept.slice(1))) return null;
    kept = kept.slice(1);
  }
  const removed = original.slice(0, original.length - kept.length);
  if (removed !== '' && !removed.startsWith('/')) return null;
  // Express 4 takes the slash after the mount path along when another follows or the path
  // ends there (`/echo//` leaves `/`): that slash is the service's, not the mount's.
  return removed.endsWith('/') ? removed.slice(0, -1) : removed;
}

/**
 * The URL below the mount point. Taken from `originalUrl` because Express 4 drops a slash
 * when it strips the mount path (`/echo//` becomes `/`, where the protocol wants `//`);
 * `req.url` serves when a middleware rewrote the URL.
 */
export function pathBelow(req: IncomingMessage, prefix: string): string {
  const original = (req as RoutedRequest).originalUrl;
  if (typeof original === 'string' && startsWithSegment(original, prefix))
    return original.slice(prefix.length);
  return req.url ?? '/';
}

/** Whether `url` starts with `prefix` and the prefix ends there at a segment boundary: end of string, '/' or '?'. */
export function startsWithSegment(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 || next === 63;
}
