/**
 * The outline of a client payload (PROTOCOL.md section 3: a JSON array of strings, or over
 * the framed websocket one JSON string), checked in one pass before JSON.parse sees it.
 * JSON.parse builds whatever nesting a payload holds before its result can be refused: a
 * megabyte of `[[[[...` costs it a hundred milliseconds and more. Refused at its first
 * character instead, a nested payload costs less than a flat one of the same size
 * (docs/performance.md, "Mechanisms written here").
 */

/** The characters of a payload's outline, as code units (also bytes: all are ASCII). */
export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const OPEN = 0x5b;
export const BACKSLASH = 0x5c;
export const CLOSE = 0x5d;

/** JSON's four whitespace characters. */
export function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function skipSpaceText(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index after the closing quote of the string opening at `text[start]`; -1 if none. */
function skipStringText(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return -1;
    // The quote is escaped when an odd number of backslashes precede it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if ((backslashes & 1) === 0) return quote + 1;
    i = quote + 1;
  }
}

/**
 * Whether `text` has the outline of a client payload: `[`, strings separated by `,`, `]`
 * (or, when `allowSingleString`, one string), with JSON whitespace between. The strings'
 * contents are not checked: what passes is flat, so JSON.parse finishes it in linear time.
 */
export function hasMessagesOutline(text: string, allowSingleString: boolean): boolean {
  const end = text.length;
  let i = skipSpaceText(text, 0);
  if (allowSingleString && text.charCodeAt(i) === QUOTE) {
    i = skipStringText(text, i);
    return i !== -1 && skipSpaceText(text, i) === end;
  }
  if (text.charCodeAt(i) !== OPEN) return false;
  i = skipSpaceText(text, i + 1);
  if (text.charCodeAt(i) !== CLOSE) {
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return false;
      i = skipStringText(text, i);
      if (i === -1) return false;
      i = skipSpaceText(text, i);
      if (text.charCodeAt(i) === CLOSE) break;
      if (text.charCodeAt(i) !== COMMA) return false;
      i = skipSpaceText(text, i + 1);
    }
  }
  return skipSpaceText(text, i + 1) === end;
}
