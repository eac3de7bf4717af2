import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasMessagesOutline } from '../lib/protocol/message-outline';
import { decodeMessageBytes, decodeMessages } from '../lib/protocol/frames';
import { settings } from './fuzz/settings';

/** What JSON.parse makes of a payload: the messages of an array of strings (or one string). */
function byJsonParse(text: string, allowSingleString: boolean): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON at all: refused.
    return null;
  }
  if (typeof value === 'string') return allowSingleString ? [value] : null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return null;
  return value as string[];
}

/** Both decoders, on the text and on its UTF-8 bytes, agree with JSON.parse. */
function agreesWithJsonParse(text: string): void {
  for (const single of [false, true]) {
    const expected = byJsonParse(text, single);
    assert.deepEqual(decodeMessages(text, single), expected, `text ${JSON.stringify(text)}`);
    const bytes = Buffer.from(text);
    const fromBytes = byJsonParse(bytes.toString('utf8'), single);
    assert.deepEqual(decodeMessageBytes(bytes, single), fromBytes, `bytes of ${JSON.stringify(text)}`);
  }
}

const EDGES = [
  '',
  ' ',
  '[]',
  ' [ ] ',
  '\t[\r\n]\n',
  '[',
  ']',
  '[,]',
  '["a",]',
  '[,"a"]',
  '["a""b"]',
  '["a" "b"]',
  '["a",,"b"]',
  '["a"]x',
  '["a"] ]',
  '["a"][]',
  '"a"',
  ' "a" ',
  '"a" "b"',
  '"a',
  '["a',
  '["a\\"]',
  '["a\\\\"]',
  '["a\\\\\\"]',
  '["\\\\\\\\"]',
  '["\\"\\"\\""]',
  '["\\u0041\\u00e9\\u20ac"]',
  '["\\ud83d\\ude00"]',
  '["\\ud83d"]',
  '["\\ude00\\ud83d"]',
  '["\\u12"]',
  '["\\u12G4"]',
  '["\\x41"]',
  '["\\/\\b\\f\\n\\r\\t"]',
  '["\\\n"]',
  '["a\u0001"]',
  '["a\u001f"]',
  '["a\u007f"]',
  '["tab\there"]',
  '["é", "€", "😀", "\u2028"]',
  '["\ud800"]',
  '["\udfff\ud800"]',
  '[\u00a0"a"]',
  '\ufeff["a"]',
  '[1]',
  '[1, 2]',
  '["a", 1]',
  '[-0.5e3]',
  '[true]',
  '[null]',
  '["a", null]',
  '{}',
  '{"a":"b"}',
  '[{}]',
  '[[]]',
  '["a", []]',
  '[["a"]]',
  '[[[[[[[[',
  '[[[[]]]]',
  '[{"a":[{"a":[',
  '["ok", {"a": ["b"]}]',
  '1',
  'null',
  'true',
  '"\\u0000"',
  '[""]',
  '["", ""]',
];

/** JSON whitespace, sometimes. */
const spaceArb = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n ', '  ');

/** A valid payload: strings of any UTF-16 (lone surrogates too), whitespace between tokens. */
const flatArb = fc
  .array(fc.tuple(fc.string({ unit: 'binary', maxLength: 20 }), spaceArb, spaceArb), { maxLength: 6 })
  .chain((items) =>
    fc.tuple(spaceArb, spaceArb).map(([open, close]) => {
      const inner = items.map(([s, a, b]) => a + JSON.stringify(s) + b).join(',');
      return open + '[' + inner + ']' + close;
    }),
  );

/** Pieces that make up broken, nested and nearly valid payloads. */
const pieceArb = fc.constantFrom(
  '[',
  ']',
  '"',
  ',',
  ' ',
  '\n',
  '\\',
  '\\"',
  '\\\\',
  '\\u',
  '\\u00e9',
  '\\ud83d',
  '\\ude00',
  'a',
  'é',
  '😀',
  '\ud800',
  '\u0001',
  '{',
  '}',
  ':',
  '1',
  '-2.5e1',
  'true',
  'null',
  '"a"',
  '"b"',
  '[[',
  ']]',
);
const piecesArb = fc.array(pieceArb, { maxLength: 24 }).map((pieces) => pieces.join(''));

/** A valid payload with one character removed, doubled or replaced. */
const mutatedArb = fc
  .tuple(flatArb, fc.nat(), fc.constantFrom('delete', 'double', 'replace'), pieceArb)
  .map(([text, at, how, piece]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
    if (how === 'double') return text.slice(0, i + 1) + text.slice(i);
    return text.slice(0, i) + piece + text.slice(i + 1);
  });

describe('client payload decoding', () => {
  it('agrees with JSON.parse on edge cases', () => {
    for (const text of EDGES) agreesWithJsonParse(text);
  });

  it('agrees with JSON.parse on valid payloads with any strings and whitespace', () => {
    fc.assert(
      fc.property(flatArb, (text) => {
        assert.notEqual(decodeMessages(text, false), null, text);
        agreesWithJsonParse(text);
      }),
      settings(2000, 5000),
    );
  });

  it('agrees with JSON.parse on random and mutated payloads', () => {
    fc.assert(
      fc.property(fc.oneof(piecesArb, mutatedArb), (text) => agreesWithJsonParse(text)),
      settings(4000, 8000),
    );
  });

  it('agrees with JSON.parse on any bytes, invalid UTF-8 included', () => {
    const bytesArb = fc
      .tuple(piecesArb, fc.uint8Array({ maxLength: 6 }), piecesArb)
      .map(([a, b, c]) => Buffer.concat([Buffer.from(a), b, Buffer.from(c)]));
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        for (const single of [false, true]) {
          assert.deepEqual(decodeMessageBytes(bytes, single), byJsonParse(bytes.toString('utf8'), single));
        }
      }),
      settings(3000, 5000),
    );
  });

  it('refuses nesting of every form by its outline, before JSON.parse', () => {
    const size = 64 * 1024;
    for (const text of [
      '['.repeat(size),
      '['.repeat(size / 2) + ']'.repeat(size / 2),
      '[{"a":'.repeat(size / 6),
      '[{"a":'.repeat(size / 8) + '0' + '}]'.repeat(size / 8),
      '["a", ' + '['.repeat(size) + ']'.repeat(size) + ']',
      ' \n[ "a" ,\t{"b":' + '['.repeat(size),
    ]) {
      assert.equal(hasMessagesOutline(text, true), false, text.slice(0, 20));
      assert.equal(decodeMessageBytes(Buffer.from(text), true), null);
    }
  });

  it('finds the end of strings with long runs of backslashes', () => {
    const odd = '\\'.repeat(10_001);
    // An odd run escapes the quote after it: the string goes on, here to no end.
    assert.equal(hasMessagesOutline(`["${odd}"]`, false), false);
    assert.equal(decodeMessages(`["${odd}"]`, false), null);
    const escapedQuote = decodeMessages(`["${odd}""]`, false);
    assert.equal(escapedQuote?.[0] === '\\'.repeat(5000) + '"', true);
    const even = decodeMessages(`["${odd}\\"]`, false);
    assert.equal(even?.[0] === '\\'.repeat(5001), true);
  });
});
