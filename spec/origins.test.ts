/**
 * The `origins` defaults: `sockjsMiddleware()` serves only pages of its own origin (as the
 * app sees it, `trust proxy` honoured, on the fast path too), script and frame transports
 * need an Origin or Referer while origins are restricted, `null` gets in only when named,
 * refusals are logged once per origin, and `createServer()` keeps sockjs-node's every-origin
 * default.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import express from 'express';
import {
  attachUpgrade,
  createServer,
  sockjsMiddleware,
  type LogSeverity,
  type SockjsOptions,
  type SockjsRouter,
} from '../lib/index';
import { heldSessionCount } from './helpers/internals';
import { listen, type TestServer } from './helpers/server';
import { GET, OPTIONS, POST, type HttpResponse } from './helpers/http';
import { handshakeStatus } from './helpers/websocket';

interface Running {
  readonly server: TestServer;
  readonly service: SockjsRouter;
  readonly base: string;
  readonly own: string;
  readonly lines: string[];
  opened: number;
}

async function start(
  options: SockjsOptions = {},
  configure?: (app: express.Express) => void,
): Promise<Running> {
  const lines: string[] = [];
  const service = sockjsMiddleware({
    ...options,
    log: (severity: LogSeverity, message: string) => {
      if (severity !== 'debug') lines.push(message);
    },
  });
  const app = express();
  configure?.(app);
  app.use('/s', service);
  const http = createHttpServer(app);
  attachUpgrade(http);
  const server = await listen(http);
  const running: Running = { server, service, base: `${server.url}/s`, own: server.url, lines, opened: 0 };
  service.on('connection', (conn) => {
    running.opened++;
    conn.on('data', (message) => conn.write(message));
  });
  return running;
}

type Call = readonly [method: 'GET' | 'POST' | 'OPTIONS', url: string];

/** Every URL of a service that opens or uses a session, or leads to one. */
function everyUrl(base: string): Call[] {
  const path = `${base}/000/${randomUUID()}`;
  return [
    ['GET', `${base}/info`],
    ['OPTIONS', `${base}/info`],
    ['GET', `${base}/iframe.html`],
    ['POST', `${path}/xhr`],
    ['OPTIONS', `${path}/xhr`],
    ['POST', `${path}/xhr_streaming`],
    ['POST', `${path}/xhr_send`],
    ['GET', `${path}/eventsource`],
    ['GET', `${path}/htmlfile?c=x`],
    ['GET', `${path}/jsonp?c=x`],
    ['POST', `${path}/jsonp_send`],
  ];
}

function call([method, url]: Call, headers: Record<string, string>): Promise<HttpResponse> {
  if (method === 'GET') return GET(url, { headers });
  if (method === 'POST') return POST(url, { headers, body: '["x"]' });
  return OPTIONS(url, { headers });
}

describe('origins: same-origin by default (sockjsMiddleware)', () => {
  let running: Running;
  before(async () => {
    running = await start();
  });
  after(() => running.server.close());

  it('refuses a foreign page with 403 on every URL and both handshakes, and opens no session', async () => {
    const foreign: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { Referer: 'https://evil.example/page.html' },
      { Origin: 'null' },
      // The same host on another port, or its plain-HTTP twin over another scheme, is another origin.
      { Origin: running.own.replace(/:(\d+)$/, (_, port: string) => `:${Number(port) + 1}`) },
      { Origin: running.own.replace(/^http:/, 'ws:') },
    ];
    for (const headers of foreign) {
      for (const target of everyUrl(running.base)) {
        const r = await call(target, headers);
        assert.deepEqual(
          [r.status, r.body],
          [403, 'Origin not allowed.'],
          `${target.join(' ')} ${JSON.stringify(headers)}`,
        );
        assert.equal(r.headers['access-control-allow-origin'], undefined);
      }
      assert.equal(await handshakeStatus(`${running.base}/websocket`, headers), 403);
      assert.equal(await handshakeStatus(`${running.base}/000/${randomUUID()}/websocket`, headers), 403);
    }
    assert.equal(heldSessionCount(running.service), 0);
    assert.equal(running.opened, 0);
  });

  it('serves pages of its own origin on every transport, with credentials', async () => {
    const own = { Origin: running.own };
    const info = await GET(`${running.base}/info`, { headers: own });
    assert.equal(info.status, 200);
    assert.equal(info.headers['access-control-allow-origin'], running.own);
    assert.equal(info.headers['access-control-allow-credentials'], 'true');
    const path = `${running.base}/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`, { headers: own })).body, 'o\n');
    assert.equal((await POST(`${path}/xhr_send`, { headers: own, body: '["hi"]' })).status, 204);
    assert.equal((await POST(`${path}/xhr`, { headers: own })).body, 'a["hi"]\n');
    // Script and frame loads carry the page in their Referer.
    const page = { Referer: `${running.own}/chat.html?room=1` };
    const jsonp = `${running.base}/000/${randomUUID()}`;
    assert.equal((await GET(`${jsonp}/jsonp?c=cb`, { headers: page })).body, '/**/cb("o");\r\n');
    assert.equal(
      (
        await POST(`${jsonp}/jsonp_send`, {
          headers: { ...page, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'd=%5B%22yo%22%5D',
        })
      ).body,
      'ok',
    );
    assert.equal((await GET(`${jsonp}/jsonp?c=cb`, { headers: page })).body, '/**/cb("a[\\"yo\\"]");\r\n');
    const frame = await GET(`${running.base}/iframe.html`, { headers: page });
    assert.equal(frame.status, 200);
    // Browsers also keep foreign pages from framing it (defence in depth beside the Referer).
    assert.equal(frame.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(await handshakeStatus(`${running.base}/websocket`, own), 101);
    assert.equal(await handshakeStatus(`${running.base}/000/${randomUUID()}/websocket`, own), 101);
  });

  it('serves non-browser clients (neither Origin nor Referer), except on script and frame transports', async () => {
    const path = `${running.base}/000/${randomUUID()}`;
    assert.equal((await GET(`${running.base}/info`)).status, 200);
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    assert.equal((await POST(`${path}/xhr_send`, { body: '["a"]' })).status, 204);
    assert.equal(await handshakeStatus(`${running.base}/websocket`, {}), 101);
    const before = running.opened;
    const hidden = `${running.base}/000/${randomUUID()}`;
    for (const target of [
      ['GET', `${hidden}/jsonp?c=steal`],
      ['GET', `${hidden}/htmlfile?c=steal`],
      ['POST', `${path}/jsonp_send`],
      ['GET', `${running.base}/iframe.html`],
    ] as const) {
      const r = await call(target, {});
      assert.deepEqual([r.status, r.body], [403, 'Origin not allowed.'], target.join(' '));
    }
    assert.equal(running.opened, before, 'no session opened for a hidden page');
    // The refused jsonp_send did not reach the xhr session.
    assert.equal((await POST(`${path}/xhr`)).body, 'a["a"]\n');
  });

  it('logs the first refusal of each origin, naming the origins option, and stops at a bound', async () => {
    running.lines.length = 0;
    for (let i = 0; i < 3; i++)
      await GET(`${running.base}/info`, { headers: { Origin: 'https://once.example' } });
    const once = running.lines.filter((line) => line.includes('https://once.example'));
    assert.equal(once.length, 1, running.lines.join('\n'));
    assert.match(once[0], /403/);
    assert.match(once[0], /origins option \(origins: \["https:\/\/once\.example"\]\)/);
    assert.match(once[0], /own origin \(http:\/\/127\.0\.0\.1:\d+\)/);
    for (let i = 0; i < 1100; i++) {
      await GET(`${running.base}/info`, { headers: { Origin: `https://flood${i}.example` } });
    }
    const refusals = running.lines.filter((line) => line.startsWith('Refused with 403'));
    assert.ok(refusals.length <= 1000, `${refusals.length} lines for 1,101 origins`);
  });
});

describe("origins: '*', lists and null", () => {
  it("'*' serves every origin, null included, with credentials (the protocol's behaviour)", async () => {
    const running = await start({ origins: '*' });
    try {
      for (const origin of ['https://evil.example', 'null']) {
        const r = await GET(`${running.base}/info`, { headers: { Origin: origin } });
        assert.equal(r.status, 200);
        assert.equal(r.headers['access-control-allow-origin'], origin);
        assert.equal(r.headers['access-control-allow-credentials'], 'true');
      }
      const hidden = `${running.base}/000/${randomUUID()}`;
      assert.equal((await GET(`${hidden}/jsonp?c=cb`)).body, '/**/cb("o");\r\n');
    } finally {
      await running.server.close();
    }
  });

  it('lets null in only when the list names it', async () => {
    const patterns = await start({ origins: ['https://*.example.com', '*://*', 'n*'] });
    const named = await start({ origins: ['https://app.example.com', 'null'] });
    try {
      assert.equal((await GET(`${patterns.base}/info`, { headers: { Origin: 'null' } })).status, 403);
      assert.equal(
        (await GET(`${patterns.base}/info`, { headers: { Origin: 'https://a.example.com' } })).status,
        200,
      );
      const r = await GET(`${named.base}/info`, { headers: { Origin: 'null' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], 'null');
    } finally {
      await patterns.server.close();
      await named.server.close();
    }
  });

  it('keeps a listed service strict on script transports without headers, and serves its listed pages', async () => {
    const running = await start({ origins: ['https://app.example.com'] });
    try {
      const path = `${running.base}/000/${randomUUID()}`;
      assert.equal((await GET(`${path}/jsonp?c=steal`)).status, 403);
      const page = { Referer: 'https://app.example.com/' };
      assert.equal((await GET(`${path}/jsonp?c=cb`, { headers: page })).body, '/**/cb("o");\r\n');
    } finally {
      await running.server.close();
    }
  });
});

describe('origins: the own origin behind a proxy (trust proxy)', () => {
  const forwarded = {
    'X-Forwarded-Host': 'www.example.com',
    'X-Forwarded-Proto': 'https',
  };

  it('takes X-Forwarded-Host and X-Forwarded-Proto when the app trusts the proxy', async () => {
    const running = await start({ fastPath: true }, (app) => app.set('trust proxy', 'loopback'));
    try {
      const page = { ...forwarded, Origin: 'https://www.example.com' };
      assert.equal((await GET(`${running.base}/info`, { headers: page })).status, 200);
      // Over TLS at the proxy, the plain-HTTP page of the same host is another origin.
      const plain = { ...forwarded, Origin: 'http://www.example.com' };
      assert.equal((await GET(`${running.base}/info`, { headers: plain })).status, 403);
      // The Host the proxy connected to is not the page's origin.
      assert.equal(
        (await GET(`${running.base}/info`, { headers: { Origin: running.own, ...forwarded } })).status,
        403,
      );
      // The fast path (before the app) judges by the same rule.
      const path = `${running.base}/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`, { headers: page })).body, 'o\n');
      for (let i = 0; i < 3; i++) {
        assert.equal((await POST(`${path}/xhr_send`, { headers: page, body: `["m${i}"]` })).status, 204);
        assert.equal((await POST(`${path}/xhr_send`, { headers: plain, body: '["evil"]' })).status, 403);
      }
      assert.equal((await POST(`${path}/xhr`, { headers: page })).body, 'a["m0","m1","m2"]\n');
      assert.equal(await handshakeStatus(`${running.base}/websocket`, page), 101);
    } finally {
      await running.server.close();
    }
  });

  it('ignores X-Forwarded-Host from a proxy the app does not trust', async () => {
    const running = await start();
    try {
      const page = { ...forwarded, Origin: 'https://www.example.com' };
      assert.equal((await GET(`${running.base}/info`, { headers: page })).status, 403);
      assert.equal(
        (await GET(`${running.base}/info`, { headers: { ...forwarded, Origin: running.own } })).status,
        200,
      );
      // A proxy that ends TLS but is not trusted: the https page of the Host is still served.
      const https = running.own.replace(/^http:/, 'https:');
      assert.equal((await GET(`${running.base}/info`, { headers: { Origin: https } })).status, 200);
    } finally {
      await running.server.close();
    }
  });
});

describe('origins: createServer() keeps sockjs-node default', () => {
  let server: TestServer;
  let strict: TestServer;
  before(async () => {
    const permissive = createServer({ log: () => {} });
    permissive.on('connection', (conn) => conn.on('data', (message) => conn.write(message)));
    server = await listen(createHttpServer());
    permissive.installHandlers(server.server, { prefix: '/echo' });
    const restricted = createServer({ log: () => {}, origins: 'same-origin' });
    strict = await listen(createHttpServer());
    restricted.installHandlers(strict.server, { prefix: '/echo' });
  });
  after(async () => {
    await server.close();
    await strict.close();
  });

  it('serves every origin with credentials unless origins is given', async () => {
    const r = await GET(`${server.url}/echo/info`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://evil.example');
    assert.equal((await GET(`${server.url}/echo/000/${randomUUID()}/jsonp?c=cb`)).status, 200);
    assert.equal(
      await handshakeStatus(`${server.url}/echo/websocket`, { Origin: 'https://evil.example' }),
      101,
    );
    const refused = await GET(`${strict.url}/echo/info`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(refused.status, 403);
    assert.equal(
      await handshakeStatus(`${strict.url}/echo/websocket`, { Origin: 'https://evil.example' }),
      403,
    );
    assert.equal(await handshakeStatus(`${strict.url}/echo/websocket`, { Origin: strict.url }), 101);
  });
});
