import type { ResponseFormat } from './response-receiver';

/**
 * The client URI-decodes every event, so `%` must travel as `%25` (or `100%41` would
 * arrive as `100A`); CR, LF and NUL would end or break the event.
 */
const EVENT_UNSAFE = /[%\r\n\x00]/g;
const EVENT_ESCAPES: Record<string, string> = { '%': '%25', '\r': '%0D', '\n': '%0A', '\x00': '%00' };

function escapeEvent(char: string): string {
  return EVENT_ESCAPES[char];
}

export const eventsourceFormat: ResponseFormat = {
  protocol: 'eventsource',
  streaming: true,
  takesCallback: false,
  contentType: 'text/event-stream',
  cors: true,
  prelude: () => '\r\n',
  frame: (frame) => {
    EVENT_UNSAFE.lastIndex = 0;
    const data = EVENT_UNSAFE.test(frame) ? frame.replace(EVENT_UNSAFE, escapeEvent) : frame;
    return 'data: ' + data + '\r\n\r\n';
  },
};
