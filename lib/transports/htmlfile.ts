import type { ResponseFormat } from './response-receiver';
import { receive } from './receive';
import type { SessionRequest } from './context';
import { callbackParameter } from './callback';
import { htmlfilePrelude } from '../protocol/pages';

/**
 * `<`, `>` and `&` inside the script block as JSON escapes, so a message containing
 * `</script>` cannot end the block (script injection).
 */
const HTML_UNSAFE = /[<>&]/g;
const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' };

function escapeHtml(char: string): string {
  return HTML_ESCAPES[char];
}

export const htmlfileFormat: ResponseFormat = {
  protocol: 'htmlfile',
  contentType: 'text/html; charset=UTF-8',
  cors: false,
  prelude: htmlfilePrelude,
  frame: (frame) =>
    '<script>\np(' + JSON.stringify(frame).replace(HTML_UNSAFE, escapeHtml) + ');\n</script>\r\n',
};

/** `GET BASE/S/I/htmlfile?c=<callback>` */
export function htmlfile(request: SessionRequest): void {
  const callback = callbackParameter(request.query, request.res);
  if (callback !== null) receive(request, htmlfileFormat, true, callback);
}
