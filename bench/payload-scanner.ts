/**
 * The alternative to lib/protocol/message-outline.ts that was measured and not kept: a
 * scanner that checks a payload's bytes and slices its strings out itself, so JSON.parse
 * never sees the array. It wins on long strings (memchr and word-at-a-time checks) and
 * loses several times over on batches of short ones, where a byte loop in JavaScript
 * cannot keep up with JSON.parse. bench/body-shape.ts compares both.
 */
import { BACKSLASH, CLOSE, COMMA, OPEN, QUOTE, SPACE, isSpace } from '../lib/protocol/message-outline';
import { plainAscii } from '../lib/protocol/plain-frames';

function skipSpaceBytes(data: Buffer, i: number): number {
  while (i < data.length && isSpace(data[i])) i++;
  return i;
}

/** Past this many plain bytes a string is searched natively, not byte by byte. */
const LONG_STRING = 64;

/**
 * Reads the JSON string whose opening quote is `data[start]`, pushes its value onto `out`,
 * and returns the index after its closing quote; -1 when it is no valid JSON string.
 * Multi-byte UTF-8 sequences never contain a byte below 0x80, so the quotes found here are
 * the quotes the decoded text holds, and decoding between them gives the text's characters.
 */
function readStringBytes(data: Buffer, start: number, out: string[]): number {
  const from = start + 1;
  const end = data.length;
  let i = from;
  let wide = false;
  let escaped = false;
  for (;;) {
    if (i >= end) return -1;
    const c = data[i];
    if (c === QUOTE) break;
    // JSON strings hold no raw control characters.
    if (c < SPACE) return -1;
    if (c === BACKSLASH) {
      escaped = true;
      i += 2;
      continue;
    }
    if (c >= 0x80) wide = true;
    i++;
    if (i - from === LONG_STRING && !wide && !escaped) {
      // A long plain string: find its end with memchr, then check the bytes a word at a time.
      const quote = data.indexOf(QUOTE, i);
      if (quote !== -1 && plainAscii(data, i, quote)) {
        out.push(data.toString('latin1', from, quote));
        return quote + 1;
      }
    }
  }
  if (!escaped) {
    out.push(data.toString(wide ? 'utf8' : 'latin1', from, i));
    return i + 1;
  }
  // One flat string token: JSON.parse decodes its escapes in linear time, and refuses a bad
  // escape (`\x`, a short `\u12`) exactly as it would inside the whole payload.
  try {
    out.push(JSON.parse(data.toString('utf8', start, i + 1)) as string);
  } catch {
    // A malformed escape: the payload is refused by the caller.
    return -1;
  }
  return i + 1;
}

/**
 * The messages of a client payload given as UTF-8 bytes: a JSON array of strings, or (when
 * `allowSingleString`) one JSON string. Null for anything else, with the same verdict and
 * the same strings as `JSON.parse(data.toString('utf8'))` would give.
 */
export function scanMessageBytes(data: Buffer, allowSingleString: boolean): string[] | null {
  const messages: string[] = [];
  const end = data.length;
  let i = skipSpaceBytes(data, 0);
  if (allowSingleString && data[i] === QUOTE) {
    i = readStringBytes(data, i, messages);
    return i !== -1 && skipSpaceBytes(data, i) === end ? messages : null;
  }
  if (data[i] !== OPEN) return null;
  i = skipSpaceBytes(data, i + 1);
  if (data[i] !== CLOSE) {
    for (;;) {
      if (data[i] !== QUOTE) return null;
      i = readStringBytes(data, i, messages);
      if (i === -1) return null;
      i = skipSpaceBytes(data, i);
      if (data[i] === CLOSE) break;
      if (data[i] !== COMMA) return null;
      i = skipSpaceBytes(data, i + 1);
    }
  }
  return skipSpaceBytes(data, i + 1) === end ? messages : null;
}
