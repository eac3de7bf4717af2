import type { OutgoingHttpHeaders } from 'node:http';
import type { SessionRequest } from './context';
import { readBody } from '../http/body';
import { NO_CACHE, cors } from '../http/headers';
import { TEXT_PLAIN, sendText } from '../http/respond';
import { decodeMessageBytes, decodeMessages } from '../protocol/frames';

const FORM = 'application/x-www-form-urlencoded';

/**
 * Reads a send request and hands its messages to the session. Errors never touch the
 * session: a later good send works (PROTOCOL.md section 4, send errors).
 */
function receiveMessages(
  request: SessionRequest,
  formField: string | undefined,
  headers: OutgoingHttpHeaders,
  answer: () => void,
): void {
  const { service, req, res, sessionId } = request;
  // With a relay, a session held by another process is found after the body is read.
  if (service.sessions.get(sessionId) === undefined && service.relay === null) {
    sendText(res, 404, 'Not found\n', headers);
    return;
  }
  readBody(req, service.options.maxBodySize, service.bodyWatch, formField, (error, body) => {
    if (error !== null) {
      if (error.status === 413 || error.status === 408) {
        // The rest of the body is not read: the connection cannot carry another request.
        headers['Connection'] = 'close';
        sendText(
          res,
          error.status,
          error.status === 413 ? 'Payload too large.' : 'Request body timed out.',
          headers,
        );
        service.log('info', `send request for a session refused: ${error.message}`);
      } else {
        service.log('debug', 'a send request was aborted by the client');
        res.destroy();
      }
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
    // The session may have expired while the body was arriving.
    const session = service.sessions.get(sessionId);
    if (session === undefined) {
      const notFound = (): void => sendText(res, 404, 'Not found\n', headers);
      if (service.relay === null) notFound();
      else service.relay.send(request, messages, answer, notFound);
      return;
    }
    answer();
    session.didMessages(messages);
  });
}

function isForm(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().startsWith(FORM);
}

/** `POST BASE/S/I/xhr_send`: a JSON array of strings; 204. */
export function xhrSend(request: SessionRequest): void {
  const { service, req, res } = request;
  const headers: OutgoingHttpHeaders = { 'Cache-Control': NO_CACHE };
  if (!service.options.disableCors) cors(req, headers);
  service.setCookie(req, res);
  receiveMessages(request, undefined, headers, () => {
    headers['Content-Type'] = TEXT_PLAIN;
    res.writeHead(204, headers);
    res.end();
  });
}

/** `POST BASE/S/I/jsonp_send`: `d=<urlencoded JSON>` or the raw JSON; 200 `ok`. */
export function jsonpSend(request: SessionRequest): void {
  const { service, req, res } = request;
  const headers: OutgoingHttpHeaders = { 'Cache-Control': NO_CACHE };
  service.setCookie(req, res);
  receiveMessages(request, 'd', headers, () => {
    sendText(res, 200, 'ok', headers);
  });
}
