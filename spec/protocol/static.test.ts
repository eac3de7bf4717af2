/**
 * Port of the "Static URLs" sections of sockjs-protocol 0.3.3 (greeting, iframe page,
 * info), following PROTOCOL.md sections 1 and 5 where they differ.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { GET, OPTIONS, type HttpResponse } from '../helpers/http';
import {
  verify404,
  verifyCachedForAYear,
  verifyContentType,
  verifyCors,
  verifyNoCookie,
  verifyNotCached,
  verifyOptions,
} from '../helpers/protocol';

const IFRAME_PAGE = `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script src="http://localhost/sockjs.js"></script>
  <script>
    document.domain = document.domain;
    SockJS.bootstrap_iframe();
  </script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`;

describe('static urls', () => {
  let server: ConformanceServer;
  let base: string;
  let wsoffBase: string;
  let cookieBase: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
    wsoffBase = `${server.url}/disabled_websocket_echo`;
    cookieBase = `${server.url}/cookie_needed_echo`;
  });

  after(async () => {
    await server.close();
  });

  describe('greeting', () => {
    it('answers the base url with and without a trailing slash', async () => {
      for (const url of [base, `${base}/`]) {
        const r = await GET(url);
        assert.equal(r.status, 200, url);
        verifyContentType(r, 'text/plain; charset=UTF-8');
        assert.equal(r.body, 'Welcome to SockJS!\n');
        verifyNoCookie(r);
      }
    });

    it('sets no cookie even when the JSESSIONID option is on', async () => {
      const r = await GET(cookieBase);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'Welcome to SockJS!\n');
      verifyNoCookie(r);
    });

    it('answers other simple paths with 404', async () => {
      for (const suffix of ['/a', '/a.html', '//', '///', '/a/a', '/a/a/', '/a/']) {
        verify404(await GET(base + suffix), suffix);
      }
    });
  });

  describe('iframe page', () => {
    async function verifyIframe(url: string): Promise<HttpResponse> {
      const r = await GET(url);
      assert.equal(r.status, 200, url);
      verifyContentType(r, 'text/html; charset=UTF-8');
      verifyCachedForAYear(r);
      const etag = r.headers['etag'];
      assert.ok(etag !== undefined && etag !== '', 'ETag expected');
      assert.ok(!etag.startsWith('W/'), `ETag must be strong, got ${etag}`);
      assert.ok(r.body.startsWith('<!DOCTYPE html>'), 'the page starts with its doctype');
      assert.equal(r.body.trimEnd(), IFRAME_PAGE);
      verifyNoCookie(r);
      return r;
    }

    it('serves /iframe.html byte for byte with the configured sockjs url', async () => {
      await verifyIframe(`${base}/iframe.html`);
    });

    it('serves versioned iframe urls', async () => {
      for (const suffix of [
        '/iframe-a.html',
        '/iframe-.html',
        '/iframe-0.1.2.html',
        '/iframe-0.1.2abc-dirty.2144.html',
      ]) {
        await verifyIframe(base + suffix);
      }
    });

    it('serves iframe urls with any query string', async () => {
      for (const suffix of [
        '/iframe-a.html?t=1234',
        '/iframe-0.1.2.html?t=123414',
        '/iframe-0.1.2abc-dirty.2144.html?t=qweqweq123',
      ]) {
        await verifyIframe(base + suffix);
      }
    });

    it('answers malformed iframe urls with 404', async () => {
      for (const suffix of [
        '/iframe.htm',
        '/iframe',
        '/IFRAME.HTML',
        '/IFRAME',
        '/iframe.HTML',
        '/iframe.xml',
        '/iframe-/.html',
        '/iframe-A.html',
      ]) {
        verify404(await GET(base + suffix), suffix);
      }
    });

    it('keeps the same strong ETag and answers If-None-Match with a bare 304', async () => {
      const r1 = await GET(`${base}/iframe.html`);
      const r2 = await GET(`${base}/iframe.html`);
      const etag = r1.headers['etag'];
      assert.ok(etag !== undefined && etag !== '');
      assert.equal(r2.headers['etag'], etag);

      const r = await GET(`${base}/iframe.html`, { headers: { 'If-None-Match': etag } });
      assert.equal(r.status, 304);
      assert.equal(r.headers['content-type'], undefined, 'a 304 has no Content-Type');
      assert.equal(r.body, '');
    });

    it('gives the same ETag to versioned urls with the same content', async () => {
      const plain = await GET(`${base}/iframe.html`);
      const versioned = await GET(`${base}/iframe-0.1.2.html?t=1`);
      assert.equal(versioned.body, plain.body);
      assert.equal(versioned.headers['etag'], plain.headers['etag']);
    });
  });

  describe('info', () => {
    function parseInfo(body: string): Record<string, unknown> {
      const data: unknown = JSON.parse(body);
      assert.ok(
        typeof data === 'object' && data !== null && !Array.isArray(data),
        'info body is a JSON object',
      );
      return data as Record<string, unknown>;
    }

    function entropyOf(info: Record<string, unknown>): number {
      const entropy = info['entropy'];
      assert.equal(typeof entropy, 'number');
      assert.ok(typeof entropy === 'number' && Number.isInteger(entropy), 'entropy is an integer');
      assert.ok(entropy >= 0 && entropy <= 2 ** 32 - 1, `entropy ${entropy} in [0, 2^32-1]`);
      return entropy;
    }

    it('describes the service as uncached CORS JSON without a cookie', async () => {
      const r = await GET(`${base}/info`);
      assert.equal(r.status, 200);
      verifyContentType(r, 'application/json; charset=UTF-8');
      verifyNoCookie(r);
      verifyNotCached(r);
      verifyCors(r);

      const data = parseInfo(r.body);
      assert.deepEqual(Object.keys(data).sort(), ['cookie_needed', 'entropy', 'origins', 'websocket']);
      assert.equal(data['websocket'], true);
      assert.equal(data['cookie_needed'], false);
      assert.deepEqual(data['origins'], ['*:*']);
      entropyOf(data);
    });

    it('echoes the Origin with credentials', async () => {
      for (const origin of ['http://example.com', 'null']) {
        const r = await GET(`${base}/info`, { headers: { Origin: origin } });
        assert.equal(r.status, 200);
        verifyCors(r, origin);
      }
    });

    it('gives different entropy on every call', async () => {
      const e1 = entropyOf(parseInfo((await GET(`${base}/info`)).body));
      const e2 = entropyOf(parseInfo((await GET(`${base}/info`)).body));
      assert.notEqual(e1, e2);
    });

    it('answers OPTIONS as a cacheable preflight', async () => {
      await verifyOptions(`${base}/info`, 'OPTIONS, GET');
    });

    it('echoes Origin: null in the preflight, with credentials', async () => {
      const r = await OPTIONS(`${base}/info`, { headers: { Origin: 'null' } });
      assert.ok(r.status === 204 || r.status === 200);
      assert.equal(r.body, '');
      assert.equal(r.headers['access-control-allow-origin'], 'null');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
    });

    it('echoes Access-Control-Request-Headers in the preflight', async () => {
      const r = await OPTIONS(`${base}/info`, {
        headers: { Origin: 'http://example.com', 'Access-Control-Request-Headers': 'a, b, c' },
      });
      assert.ok(r.status === 204 || r.status === 200);
      assert.equal(r.headers['access-control-allow-headers'], 'a, b, c');
    });

    it('says websocket: false when websockets are disabled', async () => {
      const r = await GET(`${wsoffBase}/info`);
      assert.equal(r.status, 200);
      assert.equal(parseInfo(r.body)['websocket'], false);
    });

    it('says cookie_needed: true and sets no cookie when JSESSIONID is on', async () => {
      const r = await GET(`${cookieBase}/info`);
      assert.equal(r.status, 200);
      verifyNoCookie(r);
      assert.equal(parseInfo(r.body)['cookie_needed'], true);
    });
  });
});
