import type { OutgoingHttpHeaders } from 'node:http';
import type { SessionRequest, TransportContext } from './session-request';
import { readBody } from '../http/body';
import { NO_CACHE, cors } from '../http/headers';
import { answerRefusedBody } from '../http/refused-body';
import { TEXT_PLAIN, sendText } from '../http/respond';
import { decodeMessageBytes, decodeMessages } from '../protocol/frames';
import type { Session } from '../session/session';

const FORM = 'application/x-www-form-urlencoded';

/**
 * Reads a send request and hands its messages to the session, here or where it is held.
 * Errors never touch the session: a later good send works (PROTOCOL.md section 4, send
 * errors).
 */
function receiveMessages(
  request: SessionRequest,
  context: TransportContext,
  formField: string | undefined,
  headers: OutgoingHttpHeaders,
  answer: () => void,
): void {
  const { req, res, sessionId } = request;
  const sessions = context.sessions;
  if (!sessions.mayExist(sessionId) || !admitted(request, context)) {
    sendText(res, 404, 'Not found\n', headers);
    return;
  }
  readBody(req, context.maxBodySize, context.bodyWatch, formField, (error, body) => {
    if (error !== null) {
      if (error.status === null) {
        context.log('debug', 'a send request was aborted by the client');
        res.destroy();
        return;
      }
      // The connection cannot carry another request; the rest of the body is read and
      // dropped first, or the client may never see the answer.
      answerRefusedBody(req, res, error.status, error.answer, headers);
      context.log('info', `send request for a session refused: ${error.message}`);
      return;
    }
    let payload = body;
    if (formField !== undefined && isForm(req.headers['content-type'])) {
      payload = new URLSearchParams(body.toString()).get(formField) ?? '';
    }
    if (payload.length === 0) {
      sendText(res, 500, 'Payload expected.', headers);
      return;
    }
    const messages =
      typeof payload === 'string' ? decodeMessages(payload, false) : decodeMessageBytes(payload, false);
    if (messages === null) {
      sendText(res, 500, 'Broken JSON encoding.', headers);
      return;
    }
    // Looked up now: the session may have expired while the body was arriving.
    const session = sessions.here(sessionId);
    if (session !== undefined) {
      // Perhaps a new session with the same id, opened from another address meanwhile.
      if (!admitted(request, context, session)) {
        sendText(res, 404, 'Not found\n', headers);
        return;
      }
      answer();
      session.didMessages(messages);
      return;
    }
    const notFound = (): void => sendText(res, 404, 'Not found\n', headers);
    sessions.locateForSending(request.prefix, sessionId, (holder) => {
      if (holder === null) notFound();
      else holder.deliver(messages, (taken) => (taken ? answer() : notFound()));
    });
  });
}

/**
 * Whether a send may reach the session held here, if any: with `bindSessionToAddress`, only
 * from the session's client address. Any other is answered as for an unknown session.
 */
function admitted(request: SessionRequest, context: TransportContext, session?: Session): boolean {
  const addresses = context.addresses;
  // Without the option nothing is looked up: this runs for every send.
  if (addresses === null) return true;
  const held = session ?? context.sessions.here(request.sessionId);
  if (held === undefined || addresses.admits(held, request.req)) return true;
  context.log('info', 'send for a session from another client address refused (bindSessionToAddress)');
  return false;
}

function isForm(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().startsWith(FORM);
}

/** `POST BASE/S/I/xhr_send`: a JSON array of strings; 204. */
export function xhrSend(request: SessionRequest, context: TransportContext): void {
  const { req, res } = request;
  const headers: OutgoingHttpHeaders = { 'Cache-Control': NO_CACHE };
  if (!context.disableCors) cors(req, headers);
  context.setCookie(req, res);
  receiveMessages(request, context, undefined, headers, () => {
    headers['Content-Type'] = TEXT_PLAIN;
    res.writeHead(204, headers);
    res.end();
  });
}

/** `POST BASE/S/I/jsonp_send`: `d=<urlencoded JSON>` or the raw JSON; 200 `ok`. */
export function jsonpSend(request: SessionRequest, context: TransportContext): void {
  const { req, res } = request;
  const headers: OutgoingHttpHeaders = { 'Cache-Control': NO_CACHE };
  context.setCookie(req, res);
  receiveMessages(request, context, 'd', headers, () => {
    sendText(res, 200, 'ok', headers);
  });
}
