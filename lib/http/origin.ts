import type { IncomingMessage } from 'node:http';
import type { NormalizedOptions } from '../options';

/**
 * Longest origin a rule looks at, from the Origin header or a Referer: real ones are far
 * shorter, and a rule (a function, a regular expression) should not get unbounded input.
 */
export const MAX_ORIGIN_LENGTH = 2048;

/**
 * The `origins` option: the request's Origin, or the origin of its Referer when a browser
 * sent no Origin (script and iframe loads), must be allowed. Requests with neither come
 * from non-browser clients, which no origin rule can stop anyway. An origin longer than
 * MAX_ORIGIN_LENGTH is refused unread (a Referer's path and query may be longer).
 */
export function originAllowed(options: NormalizedOptions, req: IncomingMessage): boolean {
  const allowed = options.origins;
  if (allowed === null) return true;
  let origin = req.headers.origin;
  if (origin !== undefined && origin.length > MAX_ORIGIN_LENGTH) return false;
  if (origin === undefined) {
    const referer = req.headers.referer;
    if (referer === undefined) return true;
    try {
      origin = new URL(referer).origin;
    } catch {
      // An unparsable Referer names no origin we could allow.
      return false;
    }
    if (origin.length > MAX_ORIGIN_LENGTH) return false;
  }
  return allowed(origin, req);
}
