import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'cookie';
import type { JsessionidCookieOptions, NormalizedOptions } from '../options';

/** RFC 6265 cookie-octets: a value we can put back into a header unchanged. */
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

function keepRaw(value: string): string {
  return value;
}

/**
 * The JSESSIONID rule (PROTOCOL.md section 5): echo the request's own JSESSIONID, or
 * `dummy`, so load balancers that stick on that cookie keep a session on one process.
 * Appends to Set-Cookie headers other middleware already set.
 */
export function setJsessionid(options: NormalizedOptions, req: IncomingMessage, res: ServerResponse): void {
  const rule = options.jsessionid;
  if (rule === false) return;
  if (typeof rule === 'function') {
    rule(req, res);
    return;
  }
  appendSetCookie(res, jsessionidCookie(rule, req));
}

/** The Set-Cookie value for the `true` and cookie-attributes forms of the option. */
export function jsessionidCookie(
  rule: true | Readonly<JsessionidCookieOptions>,
  req: IncomingMessage,
): string {
  let value = 'dummy';
  const header = req.headers.cookie;
  if (header) {
    const found = parse(header, { decode: keepRaw }).JSESSIONID;
    if (found !== undefined && COOKIE_VALUE.test(found)) value = found;
  }
  let cookie = `JSESSIONID=${value}; path=/`;
  if (rule !== true) {
    if (rule.sameSite !== undefined) cookie += `; SameSite=${rule.sameSite}`;
    if (rule.secure === true) cookie += '; Secure';
    if (rule.httpOnly === true) cookie += '; HttpOnly';
  }
  return cookie;
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const previous = res.getHeader('Set-Cookie');
  if (previous === undefined) res.setHeader('Set-Cookie', cookie);
  else if (Array.isArray(previous)) res.setHeader('Set-Cookie', [...previous, cookie]);
  else res.setHeader('Set-Cookie', [String(previous), cookie]);
}
