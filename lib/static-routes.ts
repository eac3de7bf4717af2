import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import { NO_CACHE, cacheForYear, cors } from './http/headers';
import { TEXT_PLAIN, sendText } from './http/respond';
import { iframePage, strongEtag } from './protocol/pages';
import type { NormalizedOptions } from './options';

const GREETING = 'Welcome to SockJS!\n';

/** `GET BASE` and `GET BASE/` */
export function greeting(res: ServerResponse): void {
  sendText(res, 200, GREETING, { 'Content-Type': TEXT_PLAIN });
}

/** `GET BASE/info`: capabilities, and a round trip the client times. */
export function info(options: NormalizedOptions, req: IncomingMessage, res: ServerResponse): void {
  const body =
    '{"websocket":' +
    String(options.transports.has('websocket')) +
    ',"cookie_needed":' +
    String(options.jsessionid !== false) +
    ',"origins":["*:*"],"entropy":' +
    String(randomInt(0, 2 ** 32)) +
    (options.baseUrl === null ? '' : ',"base_url":' + JSON.stringify(options.baseUrl)) +
    '}';
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/json; charset=UTF-8',
    'Cache-Control': NO_CACHE,
  };
  if (!options.disableCors) cors(req, headers);
  sendText(res, 200, body, headers);
}

/** The iframe page with its ETag, computed once per service. */
export interface IframeResource {
  readonly body: string;
  readonly etag: string;
}

export function iframeResource(sockjsUrl: string): IframeResource {
  const body = iframePage(sockjsUrl);
  return { body, etag: strongEtag(body) };
}

/**
 * `GET BASE/iframe.html` and versioned variants; 304 on a matching If-None-Match. With
 * `sameOriginOnly`, browsers may frame it only in a page of the service's own origin.
 */
export function iframe(
  resource: IframeResource,
  req: IncomingMessage,
  res: ServerResponse,
  sameOriginOnly: boolean,
): void {
  const headers = cacheForYear({ ETag: resource.etag });
  if (sameOriginOnly) headers['X-Frame-Options'] = 'SAMEORIGIN';
  if (matchesEtag(req.headers['if-none-match'], resource.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Type'] = 'text/html; charset=UTF-8';
  sendText(res, 200, resource.body, headers);
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => {
    const value = tag.trim();
    return value === etag || value === 'W/' + etag;
  });
}

/**
 * A websocket URL reached as a plain HTTP request: 400 with the reason, as the protocol
 * suite expects. A well-formed upgrade only gets here when no `attachUpgrade(server)` hook
 * handed it over: Node emits an upgrade to a server without `'upgrade'` listeners as a
 * plain `'request'`.
 * @returns whether it was such a well-formed upgrade
 */
export function notAnUpgrade(req: IncomingMessage, res: ServerResponse): boolean {
  let reason = 'Can "Upgrade" only to "WebSocket".';
  let unhooked = false;
  if ((req.headers.upgrade ?? '').toLowerCase() === 'websocket') {
    unhooked = /\bupgrade\b/i.test(req.headers.connection ?? '');
    reason = unhooked
      ? 'WebSocket upgrades need attachUpgrade(server) on this HTTP server.'
      : '"Connection" must be "Upgrade".';
  }
  sendText(res, 400, reason, { 'Content-Type': TEXT_PLAIN });
  return unhooked;
}
