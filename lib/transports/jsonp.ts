import type { ResponseFormat } from './response-receiver';

export const jsonpFormat: ResponseFormat = {
  protocol: 'jsonp-polling',
  streaming: false,
  takesCallback: true,
  contentType: 'application/javascript; charset=UTF-8',
  cors: false,
  prelude: () => '',
  // `/**/` first: a defence against content-sniffing (Rosetta Flash style) attacks.
  frame: (frame, callback) => '/**/' + callback + '(' + JSON.stringify(frame) + ');\r\n',
};
