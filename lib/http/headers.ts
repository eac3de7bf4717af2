import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** "Not cached" (PROTOCOL.md); `no-transform` also keeps compression() off streams. */
export const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';

const ONE_YEAR_SECONDS = 31_536_000;
const CACHE_FOR_YEAR = `public, max-age=${ONE_YEAR_SECONDS}`;

let expiresSecond = 0;
let expiresValue = '';

/** An HTTP date one year ahead; recomputed at most once a second. */
function expiresInAYear(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== expiresSecond) {
    expiresSecond = second;
    expiresValue = new Date(now + ONE_YEAR_SECONDS * 1000).toUTCString();
  }
  return expiresValue;
}

/** Adds the "cached for a year" headers. */
export function cacheForYear(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  headers['Cache-Control'] = CACHE_FOR_YEAR;
  headers['Expires'] = expiresInAYear();
  return headers;
}

/** Adds the preflight answer headers for `methods` (OPTIONS on info and xhr endpoints). */
export function preflight(headers: OutgoingHttpHeaders, methods: string): OutgoingHttpHeaders {
  cacheForYear(headers);
  headers['Access-Control-Max-Age'] = String(ONE_YEAR_SECONDS);
  headers['Access-Control-Allow-Methods'] = methods;
  return headers;
}

/**
 * CORS headers of PROTOCOL.md section 5: the request's Origin (even `null`) is echoed with
 * credentials allowed, so JSESSIONID cookies can flow; no Origin gives `*`.
 */
export function cors(req: IncomingMessage, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  // One read of `req.headers`, a getter: under Express its every call is a slow lookup.
  const requestHeaders = req.headers;
  const origin = requestHeaders.origin;
  if (origin) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Allow-Credentials'] = 'true';
  } else {
    headers['Access-Control-Allow-Origin'] = '*';
  }
  headers['Vary'] = 'Origin';
  const requested = requestHeaders['access-control-request-headers'];
  if (requested) headers['Access-Control-Allow-Headers'] = requested;
  return headers;
}
