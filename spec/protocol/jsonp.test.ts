/**
 * Port of "JsonPolling" of sockjs-protocol 0.3.3, following PROTOCOL.md section 4:
 * the `/**\/` prefix, `X-Content-Type-Options: nosniff`, callback validation, and the
 * jsonp_send body forms and errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { GET, POST } from '../helpers/http';
import {
  newSession,
  verify404,
  verifyContentType,
  verifyNoCookie,
  verifyNotCached,
} from '../helpers/protocol';

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('jsonp_polling', () => {
  let server: ConformanceServer;
  let base: string;
  let closeBase: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
    closeBase = `${server.url}/close`;
  });

  after(async () => {
    await server.close();
  });

  it('polls with uncached, nosniff javascript and sends with a d= form', async () => {
    const url = base + newSession();
    let r = await GET(`${url}/jsonp?c=%63allback`);
    assert.equal(r.status, 200);
    verifyContentType(r, 'application/javascript; charset=UTF-8');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    // Requested with GET: it must never be cached.
    verifyNotCached(r);
    verifyNoCookie(r);
    assert.equal(r.body, '/**/callback("o");\r\n');

    r = await POST(`${url}/jsonp_send`, { body: 'd=%5B%22x%22%5D', headers: FORM });
    // Konqueror does weird things on 204, so the answer is 200 with the body `ok`.
    assert.equal(r.body, 'ok');
    assert.equal(r.status, 200);
    verifyContentType(r, 'text/plain; charset=UTF-8');
    verifyNotCached(r);
    verifyNoCookie(r);

    r = await GET(`${url}/jsonp?c=%63allback`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.body, '/**/callback("a[\\"x\\"]");\r\n');
  });

  it('accepts the old callback parameter name and callbacks using . _ -', async () => {
    const r = await GET(`${base}${newSession()}/jsonp?callback=jQuery.cb_1-2`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '/**/jQuery.cb_1-2("o");\r\n');
  });

  it('accepts a 32-character callback', async () => {
    const callback = 'c'.repeat(32);
    const r = await GET(`${base}${newSession()}/jsonp?c=${callback}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, `/**/${callback}("o");\r\n`);
  });

  it('answers a missing callback with 500 "callback" parameter required', async () => {
    const r = await GET(`${base}/a/a/jsonp`);
    assert.equal(r.status, 500);
    assert.equal(r.body, '"callback" parameter required');
  });

  it('answers an unsafe or over-long callback with 500 invalid "callback" parameter', async () => {
    for (const callback of [
      '%3Cscript%3E',
      'a(b)',
      'alert(1)%3B',
      'a%20b',
      'a%2Fb',
      'c'.repeat(33),
      '%C3%A9',
      'a%22',
      'x%0A',
    ]) {
      const r = await GET(`${base}${newSession()}/jsonp?c=${callback}`);
      assert.equal(r.status, 500, callback);
      assert.equal(r.body, 'invalid "callback" parameter', callback);
    }
  });

  it('answers jsonp_send to an unknown session with 404', async () => {
    const r = await POST(`${base}${newSession()}/jsonp_send`, { body: 'd=%5B%22x%22%5D', headers: FORM });
    verify404(r);
  });

  it('rejects broken or missing payloads with 500 and keeps the session working', async () => {
    const url = base + newSession();
    let r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.body, '/**/x("o");\r\n');

    r = await POST(`${url}/jsonp_send`, { body: 'd=%5B%22x', headers: FORM });
    assert.equal(r.status, 500);
    assert.equal(r.body, 'Broken JSON encoding.');

    for (const data of ['', 'd=', 'p=p']) {
      r = await POST(`${url}/jsonp_send`, { body: data, headers: FORM });
      assert.equal(r.status, 500, JSON.stringify(data));
      assert.equal(r.body, 'Payload expected.', JSON.stringify(data));
    }

    r = await POST(`${url}/jsonp_send`, { body: '', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 500);
    assert.equal(r.body, 'Payload expected.');

    for (const data of ['d=%7B%22a%22%3A1%7D', 'd=%5B1%5D', 'd=%22a%22']) {
      r = await POST(`${url}/jsonp_send`, { body: data, headers: FORM });
      assert.equal(r.status, 500, data);
      assert.equal(r.body, 'Broken JSON encoding.', data);
    }

    r = await POST(`${url}/jsonp_send`, { body: '["x', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 500);
    assert.equal(r.body, 'Broken JSON encoding.');

    r = await POST(`${url}/jsonp_send`, { body: 'd=%5B%22b%22%5D', headers: FORM });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');

    r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '/**/x("a[\\"b\\"]");\r\n');
  });

  it('accepts a d= form and a raw text/plain body', async () => {
    const url = base + newSession();
    let r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.body, '/**/x("o");\r\n');

    r = await POST(`${url}/jsonp_send`, { body: 'd=%5B%22abc%22%5D', headers: FORM });
    assert.equal(r.body, 'ok');
    // A raw body is not url-decoded: %61 stays as it is.
    r = await POST(`${url}/jsonp_send`, { body: '["%61bc"]', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.body, 'ok');
    // The form may carry other fields; a + in the form means a space.
    r = await POST(`${url}/jsonp_send`, { body: 'x=1&d=%5B%22a+b%22%5D', headers: FORM });
    assert.equal(r.body, 'ok');

    r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.status, 200);
    assert.equal(r.body, '/**/x("a[\\"abc\\",\\"%61bc\\",\\"a b\\"]");\r\n');
  });

  it('round-trips non-ASCII text through a d= form', async () => {
    const url = base + newSession();
    assert.equal((await GET(`${url}/jsonp?c=x`)).body, '/**/x("o");\r\n');
    const messages = ['zażółć', '日本', '\u{1F600}'];
    const r = await POST(`${url}/jsonp_send`, {
      body: 'd=' + encodeURIComponent(JSON.stringify(messages)),
      headers: FORM,
    });
    assert.equal(r.body, 'ok');
    const poll = await GET(`${url}/jsonp?c=x`);
    const m = /^\/\*\*\/x\((.*)\);\r\n$/s.exec(poll.body);
    assert.ok(m !== null, poll.body);
    const frame: unknown = JSON.parse(m[1] ?? '');
    assert.ok(typeof frame === 'string' && frame.startsWith('a'));
    assert.deepEqual(JSON.parse(frame.slice(1)), messages);
  });

  it('sends the application close frame to this and every later poll', async () => {
    const url = closeBase + newSession();
    let r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.body, '/**/x("o");\r\n');

    r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.body, '/**/x("c[3000,\\"Go away!\\"]");\r\n');

    r = await GET(`${url}/jsonp?c=x`);
    assert.equal(r.body, '/**/x("c[3000,\\"Go away!\\"]");\r\n');
  });
});
