import { ResponseReceiver, type ResponseFormat } from './response-receiver';
import type { SessionRequest, TransportContext } from './session-request';
import { callbackParameter } from './callback';
import type { OutgoingHttpHeaders } from 'node:http';
import { sendRefusal, sendText } from '../http/respond';
import { NO_CACHE, cors } from '../http/headers';
import { responseLocals } from '../http/locals';
import type { Session } from '../session/session';
import { ReadyState } from '../session/ready-state';
import { releaseRouting } from '../internals';

/**
 * Serves a receiving HTTP request (polling or streaming, `format` says which): attaches
 * its response to the session it names, opening the session when nobody holds it (503 when
 * none may open), or to the process that holds it.
 */
export function receive(request: SessionRequest, context: TransportContext, format: ResponseFormat): void {
  let callback = '';
  if (format.takesCallback) {
    const valid = callbackParameter(request.query, request.res);
    if (valid === null) return;
    callback = valid;
  }
  // A receiving request's body means nothing; unread, it would stop the socket being read,
  // and a client that goes away would not be noticed.
  request.req.resume();
  // A stream may be held for minutes: what the app's routing keeps of it goes now. A poll
  // ends within a heartbeat, and under Express the release costs two slow lookups.
  if (format.streaming) releaseRouting(request.req);
  const sessions = context.sessions;
  const session = sessions.here(request.sessionId);
  if (session !== undefined) {
    if (admitted(session, request, context, format))
      session.attach(
        responseReceiver(request, context, format, callback),
        request.req,
        localsFor(session, request),
      );
    return;
  }
  sessions.locateForReceiving(request.prefix, request.sessionId, (holder) => {
    if (holder === null) {
      const session = openHere(request, context);
      // Another request, from another address, may have opened it while the lookup answered.
      if (session !== null && admitted(session, request, context, format))
        session.attach(
          responseReceiver(request, context, format, callback),
          request.req,
          localsFor(session, request),
        );
      return;
    }
    const receiver = responseReceiver(request, context, format, callback);
    holder.receive(receiver, () => attachHere(request, context, receiver));
  });
}

/**
 * Whether the request may use its session: with `bindSessionToAddress`, only from the
 * session's client address. A request from another gets what a send for an unknown session
 * gets, 404, and is never attached: it receives nothing of the session (no frame, not even
 * 2010), and the owner's receiver, queued messages and deadlines stay as they were.
 */
function admitted(
  session: Session,
  request: SessionRequest,
  context: TransportContext,
  format: ResponseFormat,
): boolean {
  const addresses = context.addresses;
  if (addresses === null || addresses.admits(session, request.req)) return true;
  const headers: OutgoingHttpHeaders = { 'Cache-Control': NO_CACHE };
  if (format.cors && !context.disableCors) cors(request.req, headers);
  sendText(request.res, 404, 'Not found\n', headers);
  context.log('info', 'request for a session from another client address refused (bindSessionToAddress)');
  return false;
}

/** The request's session, opened here; null after answering 503. */
function openHere(request: SessionRequest, context: TransportContext): Session | null {
  const session = context.sessions.open(request.sessionId, request.prefix, request.req);
  if (typeof session !== 'string') return session;
  sendRefusal(request.res, session);
  return null;
}

/** Opens the request's session here for a receiver already made; false after a refusal. */
function attachHere(request: SessionRequest, context: TransportContext, receiver: ResponseReceiver): boolean {
  const session = openHere(request, context);
  if (session === null) return false;
  const addresses = context.addresses;
  // Opened meanwhile by a request from another address: this one gets nothing of it.
  if (addresses !== null && !addresses.admits(session, request.req)) receiver.end();
  else session.attach(receiver, request.req, localsFor(session, request));
  return true;
}

/**
 * What the middleware in front left in `res.locals`, for a session the request opens: the
 * session's connection keeps it from then on. Not read for any later request, since under
 * Express each read of a response is a slow lookup.
 */
function localsFor(session: Session, request: SessionRequest): object | null {
  return session.readyState === ReadyState.CONNECTING ? responseLocals(request.res) : null;
}

/**
 * The receiving response of a request, with the JSESSIONID cookie and, when streaming,
 * headers and prelude already sent.
 */
function responseReceiver(
  request: SessionRequest,
  context: TransportContext,
  format: ResponseFormat,
  callback: string,
): ResponseReceiver {
  const { req, res } = request;
  context.setCookie(req, res);
  const limit = format.streaming ? context.responseLimit : 1;
  const receiver = new ResponseReceiver(req, res, format, limit, context.disableCors, callback);
  if (format.streaming) receiver.open();
  return receiver;
}
