import type { ResponseFormat } from './response-receiver';
import { receive } from './receive';
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
  const callback = callbackParameter(request.query, request.res);
  if (callback !== null) receive(request, jsonpFormat, false, callback);
}
