/**
 * Shared checks of the SockJS protocol tests (the `Test` base class of the Python
 * suite), written against PROTOCOL.md where the two differ.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { OPTIONS, type Headers } from './http';

export const NOT_CACHED = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
export const ONE_YEAR_SECONDS = 31536000;

interface WithHeaders {
  readonly headers: Headers;
}
interface WithStatusAndBody extends WithHeaders {
  readonly status: number;
  readonly body: string;
}

/** `/000/<random uuid>`: a fresh session path for every test. */
export function newSession(): string {
  return `/000/${randomUUID()}`;
}

/** Compares the Content-Type header byte for byte, ignoring spaces. */
export function verifyContentType(r: WithHeaders, contentType: string): void {
  const actual = r.headers['content-type'];
  assert.ok(actual !== undefined, `expected Content-Type ${contentType}, got none`);
  assert.equal(actual.replace(/ /g, ''), contentType.replace(/ /g, ''));
}

export function verifyNoCookie(r: WithHeaders): void {
  assert.equal(r.headers['set-cookie'], undefined, 'no Set-Cookie expected');
}

/** "Not cached": the exact Cache-Control and neither Expires nor Last-Modified. */
export function verifyNotCached(r: WithHeaders): void {
  assert.equal(r.headers['cache-control'], NOT_CACHED);
  assert.equal(r.headers['expires'], undefined, 'no Expires expected');
  assert.equal(r.headers['last-modified'], undefined, 'no Last-Modified expected');
}

/** "Cached for a year": public max-age one year, Expires a year ahead, no Last-Modified. */
export function verifyCachedForAYear(r: WithHeaders): void {
  assert.equal(r.headers['cache-control'], `public, max-age=${ONE_YEAR_SECONDS}`);
  const expires = r.headers['expires'];
  assert.ok(expires !== undefined, 'Expires expected');
  const ahead = Date.parse(expires) - Date.now();
  const day = 24 * 3600 * 1000;
  assert.ok(
    Math.abs(ahead - ONE_YEAR_SECONDS * 1000) < day,
    `Expires should be a year ahead, got ${expires} (${ahead} ms ahead)`,
  );
  assert.equal(r.headers['last-modified'], undefined, 'no Last-Modified expected');
}

/**
 * CORS (PROTOCOL.md section 5): an Origin (including the literal `null`) is echoed with
 * credentials allowed; no Origin gives `*` and no credentials header; always
 * `Vary: Origin`.
 */
export function verifyCors(r: WithHeaders, origin?: string): void {
  if (origin !== undefined) {
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
  } else {
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(
      r.headers['access-control-allow-credentials'],
      undefined,
      'no Access-Control-Allow-Credentials expected without an Origin',
    );
  }
  const vary = (r.headers['vary'] ?? '').split(',').map((v) => v.trim().toLowerCase());
  assert.ok(vary.includes('origin'), `expected Vary: Origin, got ${JSON.stringify(r.headers['vary'])}`);
}

export function verify404(r: { readonly status: number }, what = ''): void {
  assert.equal(r.status, 404, `expected 404 ${what}`);
}

/** 405 with an Allow header, no body and no Content-Type. */
export function verify405(r: WithStatusAndBody, allowIncludes?: string): void {
  assert.equal(r.status, 405);
  assert.equal(r.headers['content-type'], undefined, 'a 405 has no Content-Type');
  const allow = r.headers['allow'];
  assert.ok(allow !== undefined && allow !== '', 'a 405 has an Allow header');
  if (allowIncludes !== undefined) {
    const methods = allow.split(',').map((m) => m.trim());
    assert.ok(methods.includes(allowIncludes), `Allow: ${allow} should include ${allowIncludes}`);
  }
  assert.equal(r.body, '');
}

/**
 * A preflight answer: 204 (200 allowed), empty body, cached for a year,
 * Access-Control-Max-Age one year, the given Allow-Methods, CORS; checked without an
 * Origin, with `Origin: test` and with `Origin: null`.
 */
export async function verifyOptions(url: string, allowedMethods: string): Promise<void> {
  for (const origin of [undefined, 'test', 'null']) {
    const headers: Record<string, string> = origin === undefined ? {} : { Origin: origin };
    const r = await OPTIONS(url, { headers });
    assert.ok(r.status === 204 || r.status === 200, `OPTIONS ${url}: expected 204, got ${r.status}`);
    verifyCachedForAYear(r);
    assert.equal(r.headers['access-control-max-age'], String(ONE_YEAR_SECONDS));
    assert.equal(r.headers['access-control-allow-methods'], allowedMethods);
    assert.equal(r.body, '');
    verifyCors(r, origin);
    assert.equal(r.headers['access-control-allow-headers'], undefined);
  }
}

/** Checks a Set-Cookie header is exactly `JSESSIONID=<value>; path=/` (path case-insensitive). */
export function verifyCookie(r: WithHeaders, value = 'dummy'): void {
  const setCookie = r.headers['set-cookie'];
  assert.ok(setCookie !== undefined, 'Set-Cookie expected');
  const parts = setCookie.split(';').map((p) => p.trim());
  assert.equal(parts[0], `JSESSIONID=${value}`);
  assert.equal(parts[1]?.toLowerCase(), 'path=/');
}

/** The messages of an `a[...]` frame (without any transport wrapping or newline). */
export function messagesOf(frame: string): unknown[] {
  assert.ok(frame.startsWith('a['), `expected an a[...] frame, got ${JSON.stringify(frame.slice(0, 80))}`);
  const parsed: unknown = JSON.parse(frame.slice(1));
  assert.ok(Array.isArray(parsed), 'an a frame carries a JSON array');
  return parsed;
}

/**
 * Reads frames with `next` (which returns one frame's `a[...]` text, unwrapped) until
 * `count` messages have arrived: messages sent together may come in one frame or several.
 */
export async function collectMessages(next: () => Promise<string>, count: number): Promise<unknown[]> {
  const out: unknown[] = [];
  while (out.length < count) out.push(...messagesOf(await next()));
  return out;
}

function describeCodeUnit(s: string, i: number): string {
  return i < s.length ? `U+${s.charCodeAt(i).toString(16).padStart(4, '0')}` : 'end of string';
}

/**
 * Deep-equality for (possibly huge) lists of strings, failing with a short message that
 * names the first differing message and code unit instead of dumping both strings.
 */
export function assertSameMessages(actual: readonly unknown[], expected: readonly string[], what = ''): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} messages instead of ${expected.length}`,
  );
  for (let m = 0; m < expected.length; m++) {
    const a = actual[m];
    const e = expected[m] ?? '';
    assert.equal(typeof a, 'string', `${what}: message ${m} is not a string`);
    if (typeof a !== 'string' || a === e) continue;
    let i = 0;
    while (i < a.length && i < e.length && a.charCodeAt(i) === e.charCodeAt(i)) i++;
    assert.fail(
      `${what}: message ${m} differs at index ${i}: got ${describeCodeUnit(a, i)}, expected ${describeCodeUnit(e, i)}` +
        ` (lengths ${a.length} and ${e.length})`,
    );
  }
}

/** Fails with a short message if `frame` contains a character of `re` unescaped. */
export function assertNoRaw(frame: string, re: RegExp, what = ''): void {
  const m = re.exec(frame);
  if (m !== null) {
    assert.fail(
      `${what}: U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} was sent unescaped at index ${m.index}`,
    );
  }
}

/** Every ASCII character JSON treats specially (controls, `"`, `\`), and DEL. */
export function asciiSpecials(): string[] {
  const codes = [...Array(0x20).keys(), 0x22, 0x5c, 0x7f];
  return codes.map((code) => String.fromCharCode(code));
}
