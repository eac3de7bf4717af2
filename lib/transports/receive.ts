import { ResponseReceiver, type ResponseFormat } from './response-receiver';
import type { SessionRequest } from './context';

/**
 * Serves a receiving HTTP request: finds or opens its session (503 when none may open),
 * then attaches a response that carries one frame (polling) or frames up to
 * `responseLimit` bytes (streaming).
 */
export function receive(
  request: SessionRequest,
  format: ResponseFormat,
  streaming: boolean,
  callback = '',
): void {
  const { service, req, res } = request;
  const session = service.sessionFor(request);
  if (session === null) return;
  service.setCookie(req, res);
  const limit = streaming ? service.options.responseLimit : 1;
  const receiver = new ResponseReceiver(req, res, format, limit, service.options.disableCors, callback);
  if (streaming) receiver.open();
  session.attach(receiver);
}
