/**
 * Message frames as bytes, for the common case of plain ASCII text: no character JSON or
 * SockJS escapes, so a message travels exactly as it is between `"` and `"`. Testing the
 * bytes four at a time (long messages: Node's native ASCII and byte searches first) is
 * several times cheaper than JSON.stringify and JSON.parse, which visit every character
 * (docs/performance.md, "Mechanisms written here"). Anything else returns null, and the
 * caller takes the JSON path of frames.ts.
 */

import * as buffer from 'node:buffer';
import type { ReusedFrameBuffer } from './reused-frame-buffer';

/** Below this many bytes, a byte loop beats setting up a word view. */
const WORD_SCAN_MIN = 64;

/**
 * From this many bytes on, Node's native checks are cheaper than the word loop (measured:
 * 282 against 437 ns at 1 KiB, 9.2 against 24 µs at 64 KiB; even at 512 bytes).
 */
const NATIVE_SCAN_MIN = 1024;

/** `buffer.isAscii`, native since Node 18.15 and 19.6; without it, the word loop serves. */
const isAscii = (buffer as { isAscii?: (input: Uint8Array) => boolean }).isAscii;

/** Whether a byte is not plain: a control character, `"`, `\` or not ASCII at all. */
function special(c: number): boolean {
  return c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80;
}

/** True when every byte in `data[start, end)` is plain ASCII: printable, not `"` or `\`. */
export function plainAscii(data: Buffer, start: number, end: number): boolean {
  if (isAscii !== undefined && end - start >= NATIVE_SCAN_MIN) {
    const span = data.subarray(start, end);
    return isAscii(span) && span.indexOf(0x22) === -1 && span.indexOf(0x5c) === -1 && noControl(span);
  }
  let i = start;
  if (end - start >= WORD_SCAN_MIN) {
    while ((data.byteOffset + i) & 3) {
      if (special(data[i++])) return false;
    }
    const words = new Uint32Array(data.buffer, data.byteOffset + i, (end - i) >>> 2);
    for (let w = 0; w < words.length; w++) {
      // Byte-parallel tests: a byte of 0x80 or more, below 0x20, or equal to 0x22 or 0x5c
      // (a zero byte after the XOR) sets its top bit in the result. Borrows between bytes
      // arise only above a byte already caught, so no plain word is refused.
      const x = words[w];
      const quote = x ^ 0x22222222;
      const backslash = x ^ 0x5c5c5c5c;
      if (
        (x |
          ((x - 0x20202020) & ~x) |
          ((quote - 0x01010101) & ~quote) |
          ((backslash - 0x01010101) & ~backslash)) &
        0x80808080
      ) {
        return false;
      }
    }
    i += words.length * 4;
  }
  for (; i < end; i++) {
    if (special(data[i])) return false;
  }
  return true;
}

/**
 * True when no byte of `span`, all of them ASCII, is a control character. Subtracting 0x20
 * from each byte of a word sets that byte's top bit exactly where it was below 0x20 (a
 * borrow runs on only from a byte already caught), and the words' results are joined, so
 * the loop is one subtraction and one OR per four bytes.
 */
function noControl(span: Buffer): boolean {
  let i = 0;
  const end = span.length;
  while ((span.byteOffset + i) & 3) {
    if (span[i++] < 0x20) return false;
  }
  // Signed words: every byte is below 0x80, so each difference stays a small integer.
  const words = new Int32Array(span.buffer, span.byteOffset + i, (end - i) >>> 2);
  const n = words.length;
  let found = 0;
  let w = 0;
  for (; w + 4 <= n; w += 4) {
    found |=
      (words[w] - 0x20202020) |
      (words[w + 1] - 0x20202020) |
      (words[w + 2] - 0x20202020) |
      (words[w + 3] - 0x20202020);
  }
  for (; w < n; w++) found |= words[w] - 0x20202020;
  if (found & 0x80808080) return false;
  for (i += n * 4; i < end; i++) {
    if (span[i] < 0x20) return false;
  }
  return true;
}

/** The length of `a["m1","m2",...]` for `count` plain messages of `chars` characters in all. */
export function plainFrameLength(count: number, chars: number): number {
  // `a[` and `]`, two quotes a message, the commas between them.
  return 2 + 3 * count + chars;
}

/**
 * `a["m1","m2",...]` followed by `suffix`, as bytes, with `headroom` bytes left free in
 * front (for a websocket frame header). `bytes` is the messages' UTF-8 size. Null unless
 * every message is plain ASCII. Built in `reused` when given (its `written()` is then the
 * caller's to call), else in a buffer of its own.
 */
export function plainMessageFrame(
  messages: readonly string[],
  bytes: number,
  headroom: number,
  suffix: string,
  reused: ReusedFrameBuffer | null = null,
): Buffer | null {
  let chars = 0;
  for (const message of messages) chars += message.length;
  // Every character outside ASCII takes more than one byte in UTF-8.
  if (bytes !== chars) return null;
  const size = headroom + plainFrameLength(messages.length, chars) + suffix.length;
  const frame = reused === null ? Buffer.allocUnsafe(size) : reused.take(size);
  let at = headroom;
  frame[at++] = 0x61; // a
  frame[at++] = 0x5b; // [
  for (let m = 0; m < messages.length; m++) {
    const message = messages[m];
    if (m > 0) frame[at++] = 0x2c; // ,
    frame[at++] = 0x22;
    frame.write(message, at, 'latin1');
    if (!plainAscii(frame, at, at + message.length)) return null;
    at += message.length;
    frame[at++] = 0x22;
  }
  frame[at++] = 0x5d; // ]
  // Not for an empty suffix (every websocket frame's): the call alone costs 30 ns or more.
  if (suffix.length > 0) frame.write(suffix, at, 'latin1');
  return frame;
}

/**
 * The one message of a client payload shaped `["..."]` holding plain ASCII text; null for
 * any other payload, which the JSON path decodes or rejects.
 */
export function plainSingleMessage(data: Buffer): string | null {
  const end = data.length - 2;
  if (end < 2 || data[0] !== 0x5b || data[1] !== 0x22 || data[end] !== 0x22 || data[end + 1] !== 0x5d)
    return null;
  if (!plainAscii(data, 2, end)) return null;
  return data.toString('latin1', 2, end);
}
