import type { ResponseFormat } from './response-receiver';
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
  streaming: true,
  takesCallback: true,
  contentType: 'text/html; charset=UTF-8',
  cors: false,
  prelude: htmlfilePrelude,
  frame: (frame) =>
    '<script>\np(' + JSON.stringify(frame).replace(HTML_UNSAFE, escapeHtml) + ');\n</script>\r\n',
};
