/**
 * The HTTP transports: which URL suffix serves which, with which methods. Read by the
 * route table, and by the Redis forwarder, which names a receiving transport on the wire.
 */
import type { TransportName } from '../options';
import type { ConnectionProtocol } from './receiver';
import type { ResponseFormat } from './response-receiver';
import type { SessionHandler } from './session-request';
import { receive } from './receiving';
import { jsonpSend, xhrSend } from './sending';
import { xhrPollingFormat, xhrStreamingFormat } from './xhr';
import { eventsourceFormat } from './eventsource';
import { htmlfileFormat } from './htmlfile';
import { jsonpFormat } from './jsonp';
import { sendPreflight } from '../http/respond';

/** One session URL suffix: which methods it answers, and for which enabled transports. */
export interface SessionRoute {
  readonly methods: Readonly<Record<string, SessionHandler>>;
  readonly allow: string;
  /** Served when any of these transports is enabled. */
  readonly neededBy: readonly TransportName[];
  /**
   * Loaded by a script tag or a frame, or sent by a form: a page can strip such a request
   * of both Origin and Referer, so while origins are restricted it must carry one.
   */
  readonly needsOrigin: boolean;
}

/**
 * Every receiving HTTP transport, by the protocol name `Connection.protocol` reports (keyed
 * by any string: names arrive from other processes too).
 */
export const RECEIVING_FORMATS: ReadonlyMap<string, ResponseFormat> = new Map<
  ConnectionProtocol,
  ResponseFormat
>(
  [xhrPollingFormat, xhrStreamingFormat, eventsourceFormat, htmlfileFormat, jsonpFormat].map((format) => [
    format.protocol,
    format,
  ]),
);

function receiving(format: ResponseFormat): SessionHandler {
  return (request, context) => receive(request, context, format);
}

const POST_PREFLIGHT: SessionHandler = (request, context) =>
  sendPreflight(request.req, request.res, 'OPTIONS, POST', !context.disableCors);

/** The session routes, by URL suffix (`BASE/<server>/<session>/<suffix>`). */
export const SESSION_ROUTES: Readonly<Record<string, SessionRoute>> = {
  xhr: {
    methods: { POST: receiving(xhrPollingFormat), OPTIONS: POST_PREFLIGHT },
    allow: 'OPTIONS, POST',
    neededBy: ['xhr-polling'],
    needsOrigin: false,
  },
  xhr_streaming: {
    methods: { POST: receiving(xhrStreamingFormat), OPTIONS: POST_PREFLIGHT },
    allow: 'OPTIONS, POST',
    neededBy: ['xhr-streaming'],
    needsOrigin: false,
  },
  xhr_send: {
    methods: { POST: xhrSend, OPTIONS: POST_PREFLIGHT },
    allow: 'OPTIONS, POST',
    // iframe-eventsource and iframe-htmlfile send with XHR from inside the iframe.
    neededBy: ['xhr-polling', 'xhr-streaming', 'eventsource', 'htmlfile'],
    needsOrigin: false,
  },
  eventsource: {
    methods: { GET: receiving(eventsourceFormat) },
    allow: 'GET',
    neededBy: ['eventsource'],
    needsOrigin: false,
  },
  htmlfile: {
    methods: { GET: receiving(htmlfileFormat) },
    allow: 'GET',
    neededBy: ['htmlfile'],
    needsOrigin: true,
  },
  jsonp: {
    methods: { GET: receiving(jsonpFormat) },
    allow: 'GET',
    neededBy: ['jsonp-polling'],
    needsOrigin: true,
  },
  jsonp_send: { methods: { POST: jsonpSend }, allow: 'POST', neededBy: ['jsonp-polling'], needsOrigin: true },
};
