/**
 * Port of "JSESSIONID cookie" of sockjs-protocol 0.3.3, plus PROTOCOL.md section 5:
 * the cookie on every session transport (xhr_send, jsonp_send included), never on the
 * greeting, info or iframe, and never when the option is off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { GET, OPTIONS, POST, stream } from '../helpers/http';
import { newSession, verifyCookie, verifyNoCookie } from '../helpers/protocol';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('JSESSIONID cookie', () => {
  let server: ConformanceServer;
  let cookieBase: string;
  let base: string;

  before(async () => {
    server = await startConformanceServer();
    cookieBase = `${server.url}/cookie_needed_echo`;
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  it('says cookie_needed: true in info, without setting a cookie there', async () => {
    const r = await GET(`${cookieBase}/info`);
    assert.equal(r.status, 200);
    verifyNoCookie(r);
    const data: unknown = JSON.parse(r.body);
    assert.ok(typeof data === 'object' && data !== null);
    assert.equal((data as Record<string, unknown>)['cookie_needed'], true);
  });

  it('sets no cookie on the greeting, the iframe page or an info preflight', async () => {
    for (const suffix of ['', '/', '/iframe.html']) {
      const r = await GET(cookieBase + suffix);
      assert.equal(r.status, 200, suffix);
      verifyNoCookie(r);
    }
    verifyNoCookie(await OPTIONS(`${cookieBase}/info`));
  });

  it('sets JSESSIONID=dummy on xhr, and echoes a JSESSIONID the client already has', async () => {
    let url = cookieBase + newSession();
    let r = await POST(`${url}/xhr`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'o\n');
    verifyCookie(r);

    url = cookieBase + newSession();
    r = await POST(`${url}/xhr`, { headers: { Cookie: 'JSESSIONID=abcdef' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'o\n');
    verifyCookie(r, 'abcdef');

    url = cookieBase + newSession();
    r = await POST(`${url}/xhr`, { headers: { Cookie: 'a=1; JSESSIONID=xyz; b=2' } });
    assert.equal(r.status, 200);
    verifyCookie(r, 'xyz');
  });

  it('sets the cookie on xhr_send', async () => {
    const url = cookieBase + newSession();
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
    const r = await POST(`${url}/xhr_send`, { body: '["x"]' });
    assert.equal(r.status, 204);
    verifyCookie(r);
  });

  it('sets the cookie on xhr_streaming', async () => {
    const r = await stream('POST', `${cookieBase}${newSession()}/xhr_streaming`);
    try {
      assert.equal(r.status, 200);
      verifyCookie(r);
    } finally {
      r.close();
    }
  });

  it('sets the cookie on eventsource', async () => {
    const r = await stream('GET', `${cookieBase}${newSession()}/eventsource`);
    try {
      assert.equal(r.status, 200);
      verifyCookie(r);
    } finally {
      r.close();
    }
  });

  it('sets the cookie on htmlfile', async () => {
    const r = await stream('GET', `${cookieBase}${newSession()}/htmlfile?c=%63allback`);
    try {
      assert.equal(r.status, 200);
      verifyCookie(r);
    } finally {
      r.close();
    }
  });

  it('sets the cookie on jsonp and jsonp_send', async () => {
    const url = cookieBase + newSession();
    let r = await GET(`${url}/jsonp?c=%63allback`);
    assert.equal(r.status, 200);
    verifyCookie(r);
    assert.equal(r.body, '/**/callback("o");\r\n');

    r = await POST(`${url}/jsonp_send`, { body: 'd=%5B%22x%22%5D', headers: FORM });
    assert.equal(r.body, 'ok');
    assert.equal(r.status, 200);
    verifyCookie(r);
  });

  it('echoes messages like the plain echo service', async () => {
    const url = cookieBase + newSession();
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
    assert.equal((await POST(`${url}/xhr_send`, { body: '["x"]' })).status, 204);
    assert.equal((await POST(`${url}/xhr`)).body, 'a["x"]\n');
  });

  it('sets no cookie when the option is off', async () => {
    const url = base + newSession();
    let r = await POST(`${url}/xhr`, { headers: { Cookie: 'JSESSIONID=abcdef' } });
    assert.equal(r.body, 'o\n');
    verifyNoCookie(r);
    r = await POST(`${url}/xhr_send`, { body: '["x"]', headers: { Cookie: 'JSESSIONID=abcdef' } });
    assert.equal(r.status, 204);
    verifyNoCookie(r);
    r = await GET(`${base}${newSession()}/jsonp?c=x`);
    assert.equal(r.status, 200);
    verifyNoCookie(r);
  });
});
