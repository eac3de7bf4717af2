import type { IncomingMessage } from 'node:http';

/** `chunked` as the last coding of a Transfer-Encoding list, any case, spaces allowed. */
const CHUNKED_LAST = /(?:^|,)[ \t]*chunked[ \t]*$/i;

/**
 * A request whose Transfer-Encoding does not end in `chunked` has no knowable body length
 * (RFC 9112, section 6.3): it must get 400 and a closed connection. Node dispatches such a
 * request and only then fails to parse it, destroying the socket; a stream opened for it
 * would die before its corked head reached the client.
 */
export function hasUnframedBody(req: IncomingMessage): boolean {
  const codings = req.headers['transfer-encoding'];
  return codings !== undefined && !CHUNKED_LAST.test(codings);
}
