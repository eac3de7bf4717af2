/**
 * SockJS frames, server to client, and the decoding of what clients send.
 * See PROTOCOL.md section 3.
 */
import { hasMessagesOutline } from './message-outline';
import { plainSingleMessage } from './plain-frames';

export const OPEN_FRAME = 'o';
export const HEARTBEAT_FRAME = 'h';

/**
 * Characters that JSON.stringify leaves raw but browsers mangle or treat as line ends
 * (zero-width joiners, U+2028/2029, BOM, specials), so they travel as \uXXXX.
 * Control characters and lone surrogates are already escaped by JSON.stringify.
 */
const ESCAPABLE = /[\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/g;

function unicodeEscape(char: string): string {
  return '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0');
}

/** JSON-encodes one string the way every SockJS transport must carry it. */
export function quote(message: string): string {
  const json = JSON.stringify(message);
  ESCAPABLE.lastIndex = 0;
  return ESCAPABLE.test(json) ? json.replace(ESCAPABLE, unicodeEscape) : json;
}

/** `a[...]`: one frame carrying every queued message. */
export function messageFrame(messages: readonly string[]): string {
  let frame = 'a[' + quote(messages[0]);
  for (let i = 1; i < messages.length; i++) frame += ',' + quote(messages[i]);
  return frame + ']';
}

/** `c[code,"reason"]` */
export function closeFrame(code: number, reason: string): string {
  return 'c[' + String(code) + ',' + quote(reason) + ']';
}

export const ANOTHER_CONNECTION_FRAME = closeFrame(2010, 'Another connection still open');
export const INTERRUPTED_FRAME = closeFrame(1002, 'Connection interrupted');

/**
 * Parses a client payload: a JSON array of strings, or (websocket only) one JSON string.
 * Returns null when it is anything else, so callers can answer with their own error.
 */
export function decodeMessages(payload: string, allowSingleString: boolean): string[] | null {
  // Only a flat payload reaches JSON.parse: nesting is refused before it costs anything.
  if (!hasMessagesOutline(payload, allowSingleString)) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    // Broken JSON is an expected client error; the caller reports it.
    return null;
  }
  if (typeof value === 'string') return allowSingleString ? [value] : null;
  if (!Array.isArray(value)) return null;
  for (const item of value) if (typeof item !== 'string') return null;
  return value as string[];
}

/**
 * `decodeMessages` for a payload as received (UTF-8 bytes): a `["..."]` of plain ASCII is
 * sliced straight out of the bytes, anything else decoded and parsed.
 */
export function decodeMessageBytes(payload: Buffer, allowSingleString: boolean): string[] | null {
  const message = plainSingleMessage(payload);
  return message !== null ? [message] : decodeMessages(payload.toString('utf8'), allowSingleString);
}
