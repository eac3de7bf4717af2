/**
 * Generators for the property tests: random HTTP requests written byte by byte (methods,
 * request-targets, headers, bodies and their framing), and messages that stress escaping.
 */
import fc from 'fast-check';
import { FUZZ_BODY_LIMIT } from './bed';

type Framing = 'length' | 'chunked' | 'none' | 'long' | 'short';

export interface FuzzRequest {
  readonly method: string;
  /** The request-target exactly as sent. */
  readonly target: string;
  readonly version: '1.1' | '1.0';
  readonly headers: readonly (readonly [string, Buffer])[];
  readonly body: Buffer;
  readonly framing: Framing;
  /** Where a chunked body is cut into chunks. */
  readonly cuts: readonly number[];
}

export const latin1 = (value: string): Buffer => Buffer.from(value, 'latin1');
export const utf8 = (value: string): Buffer => Buffer.from(value, 'utf8');

const MOUNTS = ['/echo', '/api/v1/strict', '/close', '/parsed', '', '/flow', '/ECHO', '/api/v1/strict/'];
const SESSION_WORDS = [
  'xhr',
  'xhr_send',
  'xhr_streaming',
  'eventsource',
  'htmlfile',
  'jsonp',
  'jsonp_send',
  'websocket',
];
const PATH_WORDS = [
  '',
  '.',
  '..',
  '%2e',
  '%2E%2E',
  '%2F',
  '%00',
  '%',
  '%zz',
  '%c0%af',
  '%ff',
  '%E2%80%A8',
  'info',
  'iframe.html',
  'iframe-1.2.3.html',
  'IFRAME.HTML',
  'iframe-.html',
  'websocket',
  '000',
  ';',
  '*',
  'a;b=c',
  'é',
  '😀',
  '\u2028',
  ...SESSION_WORDS,
];

/** Spaces, controls and `#` in a raw path would end the request line or the path. */
function pathSafe(text: string): string {
  return text.replace(/[\x00-\x20\x7f#?]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** Raw non-ASCII in a request-target is a 400 from Node's parser: most segments encode it. */
const segmentArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PATH_WORDS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => encodeURI(s)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).map(pathSafe) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }).map(pathSafe) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => 'a'.repeat(n)) },
);

const SESSION_POOL = ['s1', 's2', 's3', 's4'];
const sessionIdArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...SESSION_POOL) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: segmentArb },
);

const callbackArb: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-zA-Z0-9_.-]{1,32}$/), weight: 3 },
  fc.constantFrom(
    'cb',
    '_jp.a1b2c3',
    'a'.repeat(33),
    '',
    '%3Cscript%3E',
    '<script>alert(1)</script>',
    'alert(1)//',
    'x(',
    'a+b',
    '%zz',
    'a%00',
    'é',
    'a.b-c_d',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => encodeURIComponent(s)),
);

const queryArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.oneof(
          callbackArb.map((cb) => `c=${cb}`),
          callbackArb.map((cb) => `callback=${cb}`),
          fc.constantFrom('c', 'c=', 'callback', 't=1', '&', '=', 'c=a&c=b', '%zz=1', 'c[]=x'),
          fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).map(pathSafe),
        ),
        { maxLength: 4 },
      )
      .map((params) => '?' + params.join('&')),
  },
);

/** The method each session URL expects. */
const TRANSPORT_METHOD: Readonly<Record<string, string>> = {
  xhr: 'POST',
  xhr_send: 'POST',
  xhr_streaming: 'POST',
  eventsource: 'GET',
  htmlfile: 'GET',
  jsonp: 'GET',
  jsonp_send: 'POST',
  websocket: 'GET',
};

/** A request-target, and the method its route expects when there is one. */
interface Target {
  readonly target: string;
  readonly method?: string;
}

/** A run's requests mostly go to one service and one session (`focus`), so they meet. */
interface Focus {
  readonly mount: string;
  readonly session: string;
}

const targetArb = (focus: Focus): fc.Arbitrary<Target> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          fc.oneof(
            { weight: 5, arbitrary: fc.constant(focus.mount) },
            { weight: 1, arbitrary: fc.constantFrom(...MOUNTS) },
          ),
          fc.oneof({ weight: 6, arbitrary: fc.constant('000') }, { weight: 1, arbitrary: segmentArb }),
          fc.oneof(
            { weight: 5, arbitrary: fc.constant(focus.session) },
            { weight: 1, arbitrary: sessionIdArb },
          ),
          fc.oneof(
            { weight: 8, arbitrary: fc.constantFrom(...SESSION_WORDS) },
            { weight: 1, arbitrary: segmentArb },
          ),
          queryArb,
        )
        .map(([mount, server, session, transport, query]) => ({
          target: `${mount}/${server}/${session}/${transport}${query}`,
          method: TRANSPORT_METHOD[transport],
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...MOUNTS),
          fc.constantFrom('', '/', '/info', '/iframe.html', '/websocket'),
          queryArb,
        )
        .map(([mount, path, query]) => ({ target: `${mount}${path}${query}`, method: 'GET' })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...MOUNTS), fc.array(segmentArb, { maxLength: 5 }), queryArb)
        .map(([mount, segments, query]) => ({ target: `${mount}/${segments.join('/')}${query}` })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '*',
          'echo/info',
          'http://127.0.0.1/echo/000/s1/xhr',
          'http://evil.example.net/api/v1/strict/info',
          '//echo/info',
          '/echo/../echo/info',
          '/echo/./000/s1/xhr',
          '/%2e%2e/echo/info',
        )
        .map((target) => ({ target })),
    },
  );

const methodArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('GET', 'POST', 'OPTIONS') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'HEAD',
      'PUT',
      'DELETE',
      'PATCH',
      'TRACE',
      'PROPFIND',
      'MKCOL',
      'LINK',
      'UNLINK',
      'PURGE',
      'SEARCH',
      'QUERY',
      'M-SEARCH',
      'NOTIFY',
      'REPORT',
      'LOCK',
      'ACL',
      'CONNECT',
      'get',
      'FOO',
    ),
  },
);

/** Header values: printable text, Latin-1 bytes, UTF-8 text, and now and then a control. */
const headerValueArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map(latin1) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(utf8) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 24 })
      .map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a))),
  },
);

const originValueArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      'https://app.example.com',
      'https://APP.example.com',
      'https://app.example.com/',
      'https://app.example.com:443',
      'https://a.example.org',
      'https://x.y.example.org',
      'https://evil.example.net',
      'https://app.example.com.evil.net',
      'http://app.example.com',
      'null',
      '',
      'file://',
      ' https://app.example.com ',
      'https://app.example.com, https://evil.example.net',
    )
    .map(latin1),
  headerValueArb,
);

const refererValueArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      'https://app.example.com/page',
      'https://evil.example.net/page',
      'https://b.example.org/x?y',
      'not a url',
      '//app.example.com/',
      'https://app.example.com@evil.example.net/',
    )
    .map(latin1),
  headerValueArb,
);

const wsKeyArb = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => Buffer.from(b).toString('base64'));

const headerArb: fc.Arbitrary<readonly [string, Buffer]> = fc.oneof(
  { weight: 3, arbitrary: originValueArb.map((v) => ['Origin', v] as const) },
  { weight: 2, arbitrary: refererValueArb.map((v) => ['Referer', v] as const) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          'JSESSIONID=abc',
          'JSESSIONID=',
          'JSESSIONID="quoted"',
          'JSESSIONID=%zz',
          'JSESSIONID=a;b',
          'a=b; JSESSIONID=x; JSESSIONID=y',
          'JSESSIONID=<script>',
          '=;=;',
        ),
        fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).map((v) => `JSESSIONID=${v}`),
      )
      .map((v) => ['Cookie', latin1(v)] as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        'application/x-www-form-urlencoded',
        'APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8',
        'text/plain',
        'text/plain; charset=latin1',
        'application/json',
        'application/json; charset=utf-16',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        ';;;',
        '',
      )
      .map((v) => ['Content-Type', latin1(v)] as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('websocket', 'WebSocket', 'h2c', 'junk', '', 'websocket, h2c')
      .map((v) => ['Upgrade', latin1(v)] as const),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('Upgrade', 'keep-alive, Upgrade', 'close', 'keep-alive', 'upgrade, upgrade', 'junk')
      .map((v) => ['Connection', latin1(v)] as const),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(wsKeyArb, fc.constant('junk')).map((v) => ['Sec-WebSocket-Key', latin1(v)] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('13', '8', '', 'junk')
      .map((v) => ['Sec-WebSocket-Version', latin1(v)] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('*', '"x"', 'W/"x"', ',,,', '')
      .map((v) => ['If-None-Match', latin1(v)] as const),
  },
  { weight: 1, arbitrary: headerValueArb.map((v) => ['Access-Control-Request-Headers', v] as const) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => ['X-Huge', latin1('h'.repeat(n))] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        ['Expect', '100-continue'],
        ['Expect', 'junk'],
        ['Host', 'evil.example.net'],
        ['Transfer-Encoding', 'gzip'],
        ['Content-Length', 'abc'],
        ['Accept-Encoding', 'gzip, br'],
        ['X-Forwarded-For', '1.2.3.4, <script>'],
      )
      .map(([name, value]) => [name, latin1(value)] as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/), headerValueArb)
      .map(([name, value]) => [name, value] as const),
  },
);

/** Messages that stress escaping: HTML, percent signs, line ends, lone surrogates, specials. */
export const messageArb: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '<',
      '>',
      '&',
      '%',
      '%41',
      '\r',
      '\n',
      '\u2028',
      '\u2029',
      '\ud800',
      '\udfff',
      '\x00',
      '"',
      '\\',
      '</script>',
      '\ufffe',
      '\uffff',
      '\u200c',
      '\u2060',
      '😀',
      'é',
      ' ',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 6,
});

/** A JSON array of strings exactly `size` bytes long (the lone string padded with x). */
export function arrayOfSize(size: number): string {
  return JSON.stringify(['x'.repeat(Math.max(0, size - 4))]);
}

const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: fc.array(messageArb, { maxLength: 4 }).map((m) => utf8(JSON.stringify(m))) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('["\\ud800"]', '["a\\udc00b"]', '["\\ud83d"]', '"\\ud800"', '["\\u0000"]', '[""]', '[]')
      .map(utf8),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      // WTF-8 lone surrogate, overlong encodings, truncated sequences, stray continuation bytes.
      Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]),
      Buffer.from([0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d]),
      Buffer.from([0x5b, 0x22, 0xe2, 0x82, 0x22, 0x5d]),
      Buffer.from([0x5b, 0x22, 0x80, 0x80, 0x22, 0x5d]),
      Buffer.from([0xff, 0xfe, 0x5b, 0x00, 0x5d, 0x00]),
    ),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => utf8(JSON.stringify(value) ?? 'null')),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.object({ maxDepth: 1 }), fc.string()),
        {
          minLength: 1,
          maxLength: 4,
        },
      )
      .map((items) => utf8(JSON.stringify(items))),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 30_000 }), fc.constantFrom('[', '{"a":', '["x",'))
      .map(([depth, open]) => {
        const close = open === '[' || open === '["x",' ? ']' : '}';
        return utf8(open.repeat(depth) + '1' + close.repeat(depth));
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        FUZZ_BODY_LIMIT - 1,
        FUZZ_BODY_LIMIT,
        FUZZ_BODY_LIMIT + 1,
        FUZZ_BODY_LIMIT + 5000,
        1024 * 1024,
        1024 * 1024 + 1,
      )
      .map((size) => utf8(arrayOfSize(size))),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.array(messageArb, { maxLength: 3 }).map((m) => 'd=' + encodeURIComponent(JSON.stringify(m))),
        fc.constantFrom('d=', 'x=1', 'd=%zz', 'd=a&d=b', 'd=[]', 'd=%5B%22a%22%5D&d=x', '&&&', 'd'),
      )
      .map(utf8),
  },
);

function labelled(r: FuzzRequest): FuzzRequest {
  return Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) });
}

const requestArb = (focus: Focus): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      to: targetArb(focus),
      anyMethod: methodArb,
      /** Mostly the method the route expects, so that requests reach the transports. */
      expectedMethod: fc.integer({ min: 0, max: 9 }).map((n) => n < 7),
      version: fc.oneof(
        { weight: 8, arbitrary: fc.constant('1.1' as const) },
        { weight: 1, arbitrary: fc.constant('1.0' as const) },
      ),
      headers: fc.array(headerArb, { maxLength: 6 }),
      body: bodyArb,
      framing: fc.oneof(
        { weight: 12, arbitrary: fc.constant<Framing>('length') },
        { weight: 3, arbitrary: fc.constant<Framing>('chunked') },
        { weight: 1, arbitrary: fc.constant<Framing>('none') },
        { weight: 1, arbitrary: fc.constant<Framing>('long') },
        { weight: 1, arbitrary: fc.constant<Framing>('short') },
      ),
      cuts: fc.array(fc.nat(), { maxLength: 3 }),
    })
    .map(({ to, anyMethod, expectedMethod, version, headers, body, framing, cuts }) =>
      labelled({
        method: expectedMethod && to.method !== undefined ? to.method : anyMethod,
        target: to.target,
        version,
        headers,
        body,
        framing,
        cuts,
      }),
    );

/** A readable rendering for counterexamples (bodies shortened). */
export function describeRequest(r: FuzzRequest): string {
  const headers = r.headers.map(([n, v]) => `${n}: ${JSON.stringify(v.toString('latin1').slice(0, 60))}`);
  const body = r.body.toString('latin1');
  return (
    `${r.method} ${JSON.stringify(r.target.slice(0, 200))} HTTP/${r.version} framing=${r.framing} ` +
    `[${headers.join('; ')}] body(${r.body.length})=${JSON.stringify(body.slice(0, 80))}`
  );
}

export function encodeRequest(r: FuzzRequest): Buffer {
  const parts: Buffer[] = [
    latin1(`${r.method} `),
    utf8(r.target),
    latin1(` HTTP/${r.version}\r\nHost: 127.0.0.1\r\n`),
  ];
  for (const [name, value] of r.headers) parts.push(latin1(`${name}: `), value, latin1('\r\n'));
  const body = r.body;
  let payload = body;
  switch (r.framing) {
    case 'length':
      parts.push(latin1(`Content-Length: ${body.length}\r\n`));
      break;
    case 'long':
      parts.push(latin1(`Content-Length: ${body.length + 10}\r\n`));
      break;
    case 'short':
      parts.push(latin1(`Content-Length: ${Math.max(0, body.length - 1)}\r\n`));
      break;
    case 'chunked': {
      parts.push(latin1('Transfer-Encoding: chunked\r\n'));
      const cuts = [...new Set(r.cuts.map((c) => (body.length === 0 ? 0 : c % body.length)))].sort(
        (a, b) => a - b,
      );
      const chunks: Buffer[] = [];
      let start = 0;
      for (const cut of [...cuts, body.length]) {
        if (cut <= start) continue;
        const piece = body.subarray(start, cut);
        chunks.push(latin1(`${piece.length.toString(16)}\r\n`), piece, latin1('\r\n'));
        start = cut;
      }
      chunks.push(latin1('0\r\n\r\n'));
      payload = Buffer.concat(chunks);
      break;
    }
    case 'none':
      break;
  }
  parts.push(latin1('\r\n'), payload);
  return Buffer.concat(parts);
}

const FOCUS_MOUNTS = ['/echo', '/api/v1/strict', '/parsed', '', '/close'];

/** A well-formed poll that opens (or polls) the focus session, so that sends find it. */
function opener(focus: Focus): FuzzRequest {
  return labelled({
    method: 'POST',
    target: `${focus.mount}/000/${focus.session}/xhr`,
    version: '1.1',
    headers: [['Origin', latin1('https://app.example.com')]],
    body: Buffer.alloc(0),
    framing: 'length',
    cuts: [],
  });
}

export const runArb: fc.Arbitrary<FuzzRequest[]> = fc
  .record({ mount: fc.constantFrom(...FOCUS_MOUNTS), session: fc.constantFrom(...SESSION_POOL) })
  .chain((focus) =>
    fc
      .tuple(fc.nat(2), fc.array(requestArb(focus), { minLength: 1, maxLength: 4 }))
      .map(([open, requests]) => (open > 0 ? [opener(focus), ...requests] : requests)),
  );
