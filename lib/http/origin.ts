import type { IncomingMessage } from 'node:http';
import type { NormalizedOptions } from '../options';

/**
 * The `origins` option: the request's Origin, or the origin of its Referer when a browser
 * sent no Origin (script and iframe loads), must be allowed. Requests with neither come
 * from non-browser clients, which no origin rule can stop anyway.
 */
export function originAllowed(options: NormalizedOptions, req: IncomingMessage): boolean {
  const allowed = options.origins;
  if (allowed === null) return true;
  let origin = req.headers.origin;
  if (origin === undefined) {
    const referer = req.headers.referer;
    if (referer === undefined) return true;
    try {
      origin = new URL(referer).origin;
    } catch {
      // An unparsable Referer names no origin we could allow.
      return false;
    }
  }
  return allowed(origin, req);
}
