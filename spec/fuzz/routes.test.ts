/**
 * Property-based tests (fast-check) against a live server: random requests of every shape
 * never crash the process, never get a 5xx other than the protocol's own, never leak a
 * session or a socket; neither do arbitrary bytes on a raw connection nor random websocket
 * frames.
 *
 * Seeds are random. A failure prints its seed, path and shrunk counterexample; replay it
 * with `FUZZ_SEED=<seed> FUZZ_PATH=<path>`. `FUZZ_SCALE=10` runs every property ten times
 * longer (bug hunts); `FUZZ_STATS=1` prints how often each route answered what.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import WebSocket from 'ws';
import { delay, until } from '../helpers/server';
import { RawConnection } from '../helpers/http';
import {
  ALLOWED_ORIGINS,
  FUZZ_BODY_LIMIT,
  assertSettled,
  baseline,
  closeBed,
  faults,
  openBed,
  socketsLeft,
  type Bed,
} from './bed';
import {
  arrayOfSize,
  describeRequest,
  encodeRequest,
  latin1,
  messageArb,
  runArb,
  utf8,
  type FuzzRequest,
} from './arbitraries';
import { exchange, type Outcome, type ParsedResponse } from './responses';
import { assertSameList, messagesOf } from './clients';
import { settings } from './settings';

/** Bodies the protocol itself answers with 500 (PROTOCOL.md section 4). */
const PROTOCOL_500 = new Set([
  '"callback" parameter required',
  'invalid "callback" parameter',
  'Payload expected.',
  'Broken JSON encoding.',
]);
/** The documented 503s: maxSessions and close(). */
const DOCUMENTED_503 = new Set(['Too many sessions.', 'Server shutting down.']);
/** The callback names the service accepts. */
const CALLBACK_NAME = /^[a-zA-Z0-9_.-]{1,32}$/;

// ---------------------------------------------------------------------------------
// What every answer must be
// ---------------------------------------------------------------------------------

function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

/** Body bytes the request does not declare: the server reads them as the next request. */
function garbageFollows(r: FuzzRequest): boolean {
  return (r.framing === 'none' || r.framing === 'short') && r.body.length > 0;
}

/** A poll that finds nothing to send is held open by design (until a heartbeat). */
function mayBeHeld(r: FuzzRequest): boolean {
  return /\/(xhr|jsonp)$/i.test(pathOf(r.target));
}

function headerValues(r: FuzzRequest, name: string): string[] {
  return r.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.toString('latin1').trim());
}

function originAllowed(origin: string): boolean {
  return ALLOWED_ORIGINS.some((pattern) => pattern.test(origin));
}

/** Every Origin (or, with none, every Referer) the request names is one `strict` refuses. */
function surelyForeign(r: FuzzRequest): boolean {
  const origins = headerValues(r, 'origin');
  if (origins.length > 0) return origins.every((origin) => !originAllowed(origin));
  const referers = headerValues(r, 'referer');
  if (referers.length === 0) return false;
  return referers.every((referer) => {
    try {
      return !originAllowed(new URL(referer).origin);
    } catch {
      return true;
    }
  });
}

/** The origins a request names: its Origin values, or with none, its Referers' origins. */
function namedOrigins(r: FuzzRequest): string[] {
  const origins = headerValues(r, 'origin');
  if (origins.length > 0) return origins;
  return headerValues(r, 'referer').map((referer) => {
    try {
      return new URL(referer).origin;
    } catch {
      return 'unparsable';
    }
  });
}

/**
 * Every origin the request names is surely not the host it was sent to, so a service with
 * the default `origins` (same-origin) refuses it.
 */
function surelyNotItsOwn(r: FuzzRequest): boolean {
  const hosts = headerValues(r, 'host').map((host) => host.toLowerCase());
  const named = namedOrigins(r);
  return (
    named.length > 0 &&
    named.every((origin) => !hosts.some((host) => host === '' || origin.toLowerCase().includes(host)))
  );
}

/** Services of the bed that keep the default `origins`, by path prefix. */
const SAME_ORIGIN_SERVICES = ['/echo/', '/close/', '/parsed/'];

const COOKIE =
  /^JSESSIONID=[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*; path=\/(; SameSite=(Strict|Lax|None))?(; Secure)?(; HttpOnly)?$/;

/** Every property of one answer that must hold whatever was asked. */
function checkAnswer(r: FuzzRequest, response: ParsedResponse): void {
  const { status } = response;
  const body = response.body.toString('utf8');
  if (status >= 500) {
    const documented =
      (status === 500 && PROTOCOL_500.has(body)) || (status === 503 && DOCUMENTED_503.has(body));
    assert.ok(documented, `a ${status} the protocol does not define: ${JSON.stringify(body.slice(0, 300))}`);
  }
  const path = pathOf(r.target);
  if (
    path.toLowerCase().startsWith('/api/v1/strict/') &&
    path.length > '/api/v1/strict/'.length &&
    surelyForeign(r)
  ) {
    assert.ok(status !== 101 && (status < 200 || status >= 300), `a foreign origin was served: ${status}`);
  }
  const lower = path.toLowerCase();
  if (SAME_ORIGIN_SERVICES.some((prefix) => lower.startsWith(prefix) && lower.length > prefix.length)) {
    if (surelyNotItsOwn(r)) {
      assert.ok(status !== 101 && (status < 200 || status >= 300), `another origin was served: ${status}`);
    }
  }
  for (const cookie of response.cookies) {
    if (!cookie.startsWith('JSESSIONID=')) continue;
    assert.match(cookie, COOKIE, 'JSESSIONID cookie');
    if (path.toLowerCase().startsWith('/api/v1/strict'))
      assert.match(cookie, /; SameSite=Strict; Secure; HttpOnly$/);
  }
  if (status === 200 && body.startsWith('/**/')) {
    assert.match(body, /^\/\*\*\/[a-zA-Z0-9_.-]{1,32}\("/, 'jsonp answer with an unchecked callback');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  }
  const htmlCallback = /var c = parent\.([^;]*);/.exec(body);
  if (status === 200 && htmlCallback !== null) {
    assert.match(htmlCallback[1] ?? '', CALLBACK_NAME, 'htmlfile page with an unchecked callback');
  }
  for (const script of body.matchAll(/<script>\np\(([^]*?)\);\n<\/script>/g)) {
    assert.doesNotMatch(script[1] ?? '', /[<>&]/, 'htmlfile frame not HTML-safe');
  }
}

/** Whether the answer leaves the connection fit for the next request. */
function reusable(r: FuzzRequest, outcome: Outcome): boolean {
  if (outcome.kind !== 'response') return false;
  const { response } = outcome;
  if (!response.complete || response.leftover > 0 || response.status === 101) return false;
  if ((response.headers['connection'] ?? '').toLowerCase().includes('close') || r.version === '1.0')
    return false;
  if (r.framing !== 'length' && r.framing !== 'chunked') return false;
  return r.headers.every(
    ([name]) =>
      !['upgrade', 'connection', 'expect', 'content-length', 'transfer-encoding'].includes(
        name.toLowerCase(),
      ),
  );
}

/** `FUZZ_STATS=1`: how often each route answered what, printed after the run. */
const outcomes = new Map<string, number>();
function tally(r: FuzzRequest, outcome: Outcome): void {
  if (process.env.FUZZ_STATS === undefined) return;
  const word = /\/([a-z_]+)$/i.exec(pathOf(r.target))?.[1] ?? '?';
  const result = outcome.kind === 'response' ? String(outcome.response.status) : outcome.kind;
  const key = `${r.method} ${word} ${result}`;
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
}

async function runRequests(bed: Bed, requests: readonly FuzzRequest[]): Promise<void> {
  const before = baseline(bed);
  let conn: RawConnection | null = null;
  try {
    for (const r of requests) {
      if (conn === null) conn = await RawConnection.connect(bed.url);
      // A held poll is answered at the next heartbeat; a request whose body never ends may
      // be waited for (Express's 404 reads the whole body first; send routes answer 408
      // after bodyTimeout).
      const held = mayBeHeld(r);
      const unfinished = r.framing === 'long';
      const outcome = await exchange(conn, encodeRequest(r), r.method, held ? 60 : unfinished ? 500 : 2500);
      const where = describeRequest(r);
      tally(r, outcome);
      if (outcome.kind === 'silent') {
        assert.ok(held || unfinished, `no answer within 2.5 s to ${where}`);
      } else if (outcome.kind === 'closed') {
        // CONNECT has no listener (Node drops it); a body far past the limit may be cut
        // by a reset that overtakes the 413; bytes past the declared body are a second,
        // broken request, and Node destroys the socket on the parse error, answer or not.
        assert.ok(
          r.method === 'CONNECT' || r.body.length > FUZZ_BODY_LIMIT || garbageFollows(r),
          `connection closed without an answer: ${where}`,
        );
      } else {
        try {
          checkAnswer(r, outcome.response);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n  request: ${where}`, { cause: error });
        }
      }
      if (!reusable(r, outcome)) {
        conn.close();
        conn = null;
      }
    }
  } finally {
    conn?.close();
  }
  assert.deepEqual(faults, [], 'uncaught exceptions or unhandled rejections');
  // Every socket the client closed is closed on the server too.
  const left = await socketsLeft(bed, before, 1000);
  assert.equal(left, 0, 'server sockets still open after the client closed them');
}

// ---------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------

let bed: Bed;

before(async () => {
  bed = await openBed();
});

after(async () => {
  await closeBed(bed);
  if (outcomes.size > 0) {
    const rows = [...outcomes].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${n}\t${key}`);
    console.log(rows.join('\n'));
  }
});

describe('random requests against every route', () => {
  it('never crash the server, never get an undocumented 5xx, and never leak a session', async () => {
    const before = baseline(bed);
    await fc.assert(
      fc.asyncProperty(runArb, (requests) => runRequests(bed, requests)),
      settings(200, 25_000),
    );
    await assertSettled(bed, before);
  });

  it('survive arbitrary bytes on a raw connection', async () => {
    const before = baseline(bed);
    const junk = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)),
      fc
        .tuple(
          fc.constantFrom(
            'GET /echo/info HTTP/1.1\r\n',
            'POST /echo/000/s1/xhr_send HTTP/1.1\r\nHost: x\r\n',
            'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
          ),
          fc.uint8Array({ maxLength: 256 }),
        )
        .map(([head, tail]) => Buffer.concat([latin1(head), Buffer.from(tail)])),
    );
    await fc.assert(
      fc.asyncProperty(junk, async (bytes) => {
        const conn = await RawConnection.connect(bed.url);
        try {
          const outcome = await exchange(conn, bytes, 'GET', 100);
          if (outcome.kind === 'response') {
            assert.ok(outcome.response.status < 500, `answered ${outcome.response.status} to raw bytes`);
          }
        } finally {
          conn.close();
        }
        assert.deepEqual(faults, []);
      }),
      settings(100, 8000),
    );
    await assertSettled(bed, before);
  });

  it('keep websocket sessions sound under random frames, and gone once the socket is', async () => {
    const before = baseline(bed);
    type WsMessage =
      | { readonly kind: 'text'; readonly data: string }
      | { readonly kind: 'bytes'; readonly data: Buffer; readonly binary: boolean };
    const wsMessageArb: fc.Arbitrary<WsMessage> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .array(messageArb, { maxLength: 3 })
          .map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })),
      },
      { weight: 2, arbitrary: messageArb.map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom('', '[]', '[1]', '{"a":1}', 'null', '["a"', 'nonsense', '[[["x"]]]')
          .map((data) => ({ kind: 'text' as const, data })),
      },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ maxLength: 32 })
          .map((b) => ({ kind: 'bytes' as const, data: Buffer.from(b), binary: false })),
      },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ maxLength: 32 })
          .map((b) => ({ kind: 'bytes' as const, data: Buffer.from(b), binary: true })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(FUZZ_BODY_LIMIT - 1, FUZZ_BODY_LIMIT, FUZZ_BODY_LIMIT + 1).map((size) => ({
          kind: 'text' as const,
          data: arrayOfSize(size),
          [fc.toStringMethod]: () => `{"kind":"text","data":<JSON array of ${size} bytes>}`,
        })),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(wsMessageArb, { maxLength: 6 }),
        fc.boolean(),
        async (raw, messages, terminate) => {
          const path = raw ? '/echo/websocket' : `/echo/000/${randomUUID()}/websocket`;
          const ws = new WebSocket(`${bed.url.replace('http', 'ws')}${path}`, {
            perMessageDeflate: false,
            maxPayload: 1 << 24,
          });
          const inbox: string[] = [];
          let closeCode = -1;
          const closed = new Promise<void>((resolve) =>
            ws.on('close', (code: number) => {
              closeCode = code;
              resolve();
            }),
          );
          ws.on('message', (data: Buffer) => inbox.push(data.toString('utf8')));
          ws.on('error', () => undefined);
          try {
            await new Promise<void>((resolve, reject) => {
              ws.once('open', () => resolve());
              ws.once('error', reject);
            });
            // What the echo service must answer, up to the first message that ends the socket.
            const expected: string[] = [];
            let expectedClose: readonly number[] | null = null;
            for (const message of messages) {
              const bytes = message.kind === 'text' ? utf8(message.data) : message.data;
              if (bytes.length > FUZZ_BODY_LIMIT) expectedClose = [1009];
              else if (!(message.kind === 'bytes' && message.binary) && !isValidUtf8(bytes))
                expectedClose = [1007];
              else {
                const text = bytes.toString('utf8');
                if (raw) expected.push(text);
                else if (text !== '') {
                  const decoded = decodeClientFrame(text);
                  if (decoded === null) expectedClose = [3000];
                  else expected.push(...decoded);
                }
              }
              if (message.kind === 'text') ws.send(message.data);
              else ws.send(message.data, { binary: message.binary });
              if (expectedClose !== null) break;
            }
            if (expectedClose !== null) {
              await Promise.race([closed, delay(2000)]);
              assert.ok(
                expectedClose.includes(closeCode),
                `closed with ${closeCode}, expected ${expectedClose.join('/')}`,
              );
            } else {
              const count = (): number =>
                raw ? inbox.length : inbox.flatMap((f) => messagesOf(f) ?? []).length;
              await until(() => count() >= expected.length || closeCode !== -1, 2000, 'the echoes');
              assert.equal(closeCode, -1, 'the socket stays open');
            }
            const echoed = raw ? inbox : inbox.flatMap((frame) => messagesOf(frame) ?? []);
            if (!raw) assert.equal(inbox[0], 'o');
            if (expectedClose === null) assertSameList(echoed, expected, 'every echo once, in order');
            else {
              // The socket ends at once: echoes written in the same tick as the bad message
              // may be dropped, but nothing is duplicated or reordered.
              assertSameList(echoed, expected.slice(0, echoed.length), 'echoes before the close, in order');
            }
          } finally {
            if (terminate) ws.terminate();
            else ws.close();
            await Promise.race([closed, delay(1000)]);
          }
          assert.deepEqual(faults, []);
        },
      ),
      settings(60, 8000),
    );
    await assertSettled(bed, before);
  });
});

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** What the framed websocket accepts: a JSON array of strings or one JSON string. */
function decodeClientFrame(text: string): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  return null;
}
