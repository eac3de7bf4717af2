/**
 * CPU time to decode client payloads (send bodies, framed websocket messages): flat ones
 * that are accepted against nested ones that are refused, for three decoders.
 *
 *   npx tsc -p tsconfig.spec.json && node build/bench/body-shape.js [--min-ms 300]
 *
 * - `JSON.parse`: what every payload went through before the outline check (kept here as
 *   the reference): decode the bytes, JSON.parse, check the result.
 * - `outline+parse`: `decodeMessageBytes`, what the server does with bytes it reads: the
 *   outline check of lib/protocol/message-outline.ts, then JSON.parse.
 * - `scanner`: the alternative in payload-scanner.ts, which slices the strings out itself.
 */
import { decodeMessageBytes } from '../lib/protocol/frames';
import { scanMessageBytes } from './payload-scanner';

function jsonParseDecode(payload: Buffer): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return null;
  for (const item of value) if (typeof item !== 'string') return null;
  return value as string[];
}

type Decoder = (payload: Buffer) => string[] | null;

const DECODERS: ReadonlyArray<[string, Decoder]> = [
  ['JSON.parse', jsonParseDecode],
  ['outline+parse', (payload) => decodeMessageBytes(payload, true)],
  ['scanner', (payload) => scanMessageBytes(payload, true)],
];

const MiB = 1024 * 1024;

/** `["<piece>", "<piece>", ...]` of about `size` bytes. */
function flatArray(piece: string, size: number): Buffer {
  const quoted = JSON.stringify(piece);
  const count = Math.max(1, Math.floor(size / (Buffer.byteLength(quoted) + 1)));
  return Buffer.from('[' + new Array<string>(count).fill(quoted).join(',') + ']');
}

/** `["<text>"]` with `text` of about `size` bytes, repeating `unit`. */
function oneString(unit: string, size: number): Buffer {
  const text = unit.repeat(Math.max(1, Math.floor(size / Buffer.byteLength(JSON.stringify(unit)))));
  return Buffer.from(JSON.stringify([text]));
}

const A100 = 'a'.repeat(100);
const ESCAPED = 'say "hi"\n\tand\\go '.repeat(5);
const NON_ASCII = 'héllo wörld ✓ привет 😀 '.repeat(4);
const CONTROL = '\u0001\u2028\ud83d\ude00 '.repeat(10);

const CASES: ReadonlyArray<[string, Buffer, 'accept' | 'refuse']> = [
  ['chat: one plain message', Buffer.from('["hello there, how are you?"]'), 'accept'],
  ['chat: three messages', Buffer.from('["hi","there","how are you?"]'), 'accept'],
  ['chat: escapes', Buffer.from(JSON.stringify(['say "hi"\n'])), 'accept'],
  ['chat: non-ASCII', Buffer.from(JSON.stringify(['héllo wörld ✓ 😀'])), 'accept'],
  ['64 KiB: one string', oneString('a', 64 * 1024), 'accept'],
  ['64 KiB: 100-byte strings', flatArray(A100, 64 * 1024), 'accept'],
  ['64 KiB: escapes', flatArray(ESCAPED, 64 * 1024), 'accept'],
  ['64 KiB: non-ASCII', flatArray(NON_ASCII, 64 * 1024), 'accept'],
  ['1 MiB: one string', oneString('a', MiB), 'accept'],
  ['1 MiB: 100-byte strings', flatArray(A100, MiB), 'accept'],
  ['1 MiB: 8-byte strings', flatArray('abcdefgh', MiB), 'accept'],
  ['1 MiB: escapes', flatArray(ESCAPED, MiB), 'accept'],
  ['1 MiB: \\u escapes', flatArray(CONTROL, MiB), 'accept'],
  ['1 MiB: non-ASCII', flatArray(NON_ASCII, MiB), 'accept'],
  ['1 MiB: one non-ASCII string', oneString('ж', MiB), 'accept'],
  ['1 MiB nested: [[[[...', Buffer.from('['.repeat(MiB)), 'refuse'],
  ['1 MiB nested: [[[...]]]', Buffer.from('['.repeat(MiB / 2) + ']'.repeat(MiB / 2)), 'refuse'],
  ['1 MiB nested: [{"a":[{"a":...', Buffer.from('[{"a":'.repeat(MiB / 6)), 'refuse'],
  [
    '1 MiB nested, balanced objects',
    Buffer.from('[{"a":'.repeat(MiB / 8) + '0' + '}]'.repeat(MiB / 8)),
    'refuse',
  ],
  [
    '1 MiB: flat, then nested at the end',
    Buffer.from('["' + 'a'.repeat(MiB / 2) + '",' + '['.repeat(MiB / 4) + ']'.repeat(MiB / 4) + ']'),
    'refuse',
  ],
];

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

const MIN_MS = argument('--min-ms', 300);

/** CPU microseconds per call (user + system, so garbage collection on other threads counts). */
function cpuPerCall(decode: Decoder, payload: Buffer, expected: 'accept' | 'refuse'): number {
  const verdict = decode(payload) === null ? 'refuse' : 'accept';
  if (verdict !== expected) throw new Error(`expected ${expected}, got ${verdict}`);
  let calls = 0;
  const start = process.cpuUsage();
  let spent: number;
  do {
    for (let i = 0; i < 10; i++) decode(payload);
    calls += 10;
    const used = process.cpuUsage(start);
    spent = (used.user + used.system) / 1000;
  } while (spent < MIN_MS && calls < 1_000_000);
  return (spent * 1000) / calls;
}

function format(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`;
}

const results = new Map<string, number[]>();
console.log(`| payload | bytes | ${DECODERS.map(([name]) => name).join(' | ')} |`);
console.log(`| --- | ---: | ${DECODERS.map(() => '---:').join(' | ')} |`);
for (const [name, payload, expected] of CASES) {
  const row = DECODERS.map(([, decode]) => cpuPerCall(decode, payload, expected));
  results.set(name, row);
  console.log(`| ${name} (${expected}) | ${payload.length} | ${row.map(format).join(' | ')} |`);
}

const flat = results.get('1 MiB: 100-byte strings') ?? [];
console.log('\nRefusing 1 MiB nested / accepting 1 MiB of 100-byte strings (CPU ratio):\n');
console.log(`| nesting | ${DECODERS.map(([name]) => name).join(' | ')} |`);
console.log(`| --- | ${DECODERS.map(() => '---:').join(' | ')} |`);
for (const [name, , expected] of CASES) {
  if (expected !== 'refuse') continue;
  const row = results.get(name) ?? [];
  console.log(`| ${name} | ${row.map((us, i) => (us / flat[i]).toFixed(3) + 'x').join(' | ')} |`);
}
