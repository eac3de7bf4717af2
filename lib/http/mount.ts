import type { IncomingMessage } from 'node:http';

/** What Express adds to a request that passes through its routers. */
interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  originalUrl?: string;
}

/** Where the service is mounted ('' at the root or outside Express). */
export function mountPath(req: IncomingMessage): string {
  return (req as RoutedRequest).baseUrl ?? '';
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
