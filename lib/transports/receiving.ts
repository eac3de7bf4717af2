import { ResponseReceiver, type ResponseFormat } from './response-receiver';
import type { SessionRequest, TransportContext } from './session-request';
import { callbackParameter } from './callback';
import { sendRefusal } from '../http/respond';
import type { Session } from '../session/session';

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
  const sessions = context.sessions;
  const session = sessions.here(request.sessionId);
  if (session !== undefined) {
    session.attach(responseReceiver(request, context, format, callback), request.req);
    return;
  }
  sessions.locateForReceiving(request.prefix, request.sessionId, (holder) => {
    if (holder === null) {
      const session = openHere(request, context);
      if (session !== null) session.attach(responseReceiver(request, context, format, callback), request.req);
      return;
    }
    const receiver = responseReceiver(request, context, format, callback);
    holder.receive(receiver, () => attachHere(request, context, receiver));
  });
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
  session?.attach(receiver, request.req);
  return session !== null;
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
