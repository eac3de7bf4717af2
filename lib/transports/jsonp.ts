import { ResponseReceiver, type ResponseFormat } from './response-receiver';
import type { SessionRequest } from './context';
import { callbackParameter } from './callback';

export const jsonpFormat: ResponseFormat = {
  protocol: 'jsonp-polling',
  contentType: 'application/javascript; charset=UTF-8',
  cors: false,
  prelude: () => '',
  // `/**/` first: a defence against content-sniffing (Rosetta Flash style) attacks.
  frame: (frame, callback) => '/**/' + callback + '(' + JSON.stringify(frame) + ');\r\n',
};

/** `GET BASE/S/I/jsonp?c=<callback>`: one frame per response. */
export function jsonpPolling(request: SessionRequest): void {
  const { service, req, res } = request;
  const callback = callbackParameter(request.query, res);
  if (callback === null) return;
  service.setCookie(req, res);
  const receiver = new ResponseReceiver(req, res, jsonpFormat, 1, true, callback);
  service.receive(request.sessionId, request.prefix, receiver);
}
