import { ResponseReceiver, type ResponseFormat } from './response-receiver';
import type { SessionRequest } from './context';

/**
 * Serves a receiving HTTP request: finds or opens its session (503 when none may open),
 * then attaches a response that carries one frame (polling) or frames up to
 * `responseLimit` bytes (streaming). A session another process holds goes to the relay.
 */
export function receive(
  request: SessionRequest,
  format: ResponseFormat,
  streaming: boolean,
  callback = '',
): void {
  const { service, sessionId } = request;
  // A receiving request's body means nothing; unread, it would stop the socket being read,
  // and a client that goes away would not be noticed.
  request.req.resume();
  const relay = service.relay;
  if (relay !== null && service.sessions.get(sessionId) === undefined) {
    relay.receive(request, format, streaming, callback, () =>
      receiveHere(request, format, streaming, callback),
    );
    return;
  }
  receiveHere(request, format, streaming, callback);
}

function receiveHere(
  request: SessionRequest,
  format: ResponseFormat,
  streaming: boolean,
  callback: string,
): void {
  const session = request.service.sessionFor(request);
  if (session === null) return;
  session.attach(responseReceiver(request, format, streaming, callback));
}

/**
 * The receiving response of a request, with the JSESSIONID cookie and, when streaming,
 * headers and prelude already sent.
 */
export function responseReceiver(
  request: SessionRequest,
  format: ResponseFormat,
  streaming: boolean,
  callback: string,
): ResponseReceiver {
  const { service, req, res } = request;
  service.setCookie(req, res);
  const limit = streaming ? service.options.responseLimit : 1;
  const receiver = new ResponseReceiver(req, res, format, limit, service.options.disableCors, callback);
  if (streaming) receiver.open();
  return receiver;
}
