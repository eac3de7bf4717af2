import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { cors, preflight } from './headers';

export const TEXT_PLAIN = 'text/plain; charset=UTF-8';

/** Ends a response with a complete, small body (Content-Length set by Node). */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (body !== '' && headers['Content-Type'] === undefined) headers['Content-Type'] = TEXT_PLAIN;
  // writeHead comes first, so Node cannot count the body itself.
  headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
}

export function sendNotFound(res: ServerResponse): void {
  sendText(res, 404, 'Not found\n');
}

/** 405 carries `Allow` and, as the protocol suite checks, neither body nor Content-Type. */
export function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  sendText(res, 405, '', { Allow: allow });
}

/** The 503 of a session that may not open now: the service is closing, or full (maxSessions). */
export function sendRefusal(res: ServerResponse, refusal: 'closing' | 'full'): void {
  sendText(res, 503, refusal === 'closing' ? 'Server shutting down.' : 'Too many sessions.', {
    'Retry-After': '5',
  });
}

/** OPTIONS on info and the xhr endpoints: a preflight answer for `methods`, cached for a year. */
export function sendPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  methods: string,
  withCors: boolean,
): void {
  const headers = preflight({}, methods);
  if (withCors) cors(req, headers);
  res.writeHead(204, headers);
  res.end();
}
