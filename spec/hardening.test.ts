import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import WebSocket from 'ws';
import { attachUpgrade, sockjsMiddleware, type SockjsOptions, type SockjsRouter } from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { heldSessionCount } from './helpers/internals';
import { delay, listen, until, type TestServer } from './helpers/server';
import { GET, OPTIONS, POST, RawConnection, stream } from './helpers/http';
import { handshakeStatus, WsClient } from './helpers/websocket';

interface Running {
  server: TestServer;
  service: SockjsRouter;
  connections: Connection[];
  base: string;
}

async function start(options: SockjsOptions, onConnection?: (conn: Connection) => void): Promise<Running> {
  const service = sockjsMiddleware(options);
  const connections: Connection[] = [];
  service.on('connection', (conn) => {
    connections.push(conn);
    if (onConnection) onConnection(conn);
    else conn.on('data', (message: string) => conn.write(message));
  });
  const app = express();
  app.use('/s', service);
  const http = createServer(app);
  attachUpgrade(http);
  const server = await listen(http);
  return { server, service, connections, base: `${server.url}/s` };
}

describe('origins', () => {
  let running: Running;
  const good = { Origin: 'https://app.example.com' };
  const evil = { Origin: 'https://evil.example.net' };
  before(async () => {
    running = await start({ origins: ['https://app.example.com'] });
  });
  after(() => running.server.close());

  it('refuses a foreign origin with 403 on every transport, and opens no session', async () => {
    const path = `${running.base}/000/${randomUUID()}`;
    for (const [method, url] of [
      ['POST', `${path}/xhr`],
      ['POST', `${path}/xhr_streaming`],
      ['GET', `${path}/eventsource`],
      ['GET', `${path}/htmlfile?c=x`],
      ['GET', `${path}/jsonp?c=x`],
      ['POST', `${path}/xhr_send`],
      ['POST', `${path}/jsonp_send`],
      ['OPTIONS', `${path}/xhr`],
      ['GET', `${running.base}/info`],
      ['GET', `${running.base}/iframe.html`],
    ] as const) {
      const r =
        method === 'GET'
          ? await GET(url, { headers: evil })
          : method === 'POST'
            ? await POST(url, { headers: evil })
            : await OPTIONS(url, { headers: evil });
      assert.equal(r.status, 403, `${method} ${url}`);
    }
    assert.equal(heldSessionCount(running.service), 0);
    assert.equal(running.connections.length, 0);
  });

  it('refuses an origin longer than 2 KiB without matching it, from Origin or Referer', async () => {
    const longHost = 'https://' + 'a'.repeat(3000) + '.app.example.com';
    const byOrigin = await GET(`${running.base}/info`, { headers: { Origin: longHost } });
    assert.equal(byOrigin.status, 403);
    const byReferer = await GET(`${running.base}/iframe.html`, { headers: { Referer: `${longHost}/page` } });
    assert.equal(byReferer.status, 403);
    // A long page address is no long origin.
    const longPage = 'https://app.example.com/page?' + 'q'.repeat(3000);
    const fromLongPage = await GET(`${running.base}/iframe.html`, { headers: { Referer: longPage } });
    assert.equal(fromLongPage.status, 200);
  });

  it('refuses both websocket upgrades from a foreign origin', async () => {
    assert.equal(await handshakeStatus(`${running.base}/000/${randomUUID()}/websocket`, evil), 403);
    assert.equal(await handshakeStatus(`${running.base}/websocket`, evil), 403);
    assert.equal(running.connections.length, 0);
  });

  it('checks the Referer when a browser sends no Origin (iframe page, script loads)', async () => {
    assert.equal(
      (await GET(`${running.base}/iframe.html`, { headers: { Referer: 'https://evil.example.net/page' } }))
        .status,
      403,
    );
    assert.equal(
      (await GET(`${running.base}/iframe.html`, { headers: { Referer: 'https://app.example.com/x' } }))
        .status,
      200,
    );
  });

  it('serves an allowed origin, and still answers the greeting to anyone', async () => {
    const path = `${running.base}/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`, { headers: good })).body, 'o\n');
    assert.equal(await handshakeStatus(`${running.base}/websocket`, good), 101);
    assert.equal((await GET(running.base, { headers: evil })).status, 200);
  });
});

describe('JSESSIONID cookie attributes', () => {
  it('sets SameSite, Secure and HttpOnly when asked', async () => {
    const running = await start({ jsessionid: { sameSite: 'None', secure: true, httpOnly: true } });
    try {
      const r = await POST(`${running.base}/000/${randomUUID()}/xhr`);
      assert.equal(r.headers['set-cookie'], 'JSESSIONID=dummy; path=/; SameSite=None; Secure; HttpOnly');
      assert.equal(JSON.parse((await GET(`${running.base}/info`)).body).cookie_needed, true);
    } finally {
      await running.server.close();
    }
  });
});

describe('maxSessions', () => {
  it('answers 503 to a new session past the cap, on HTTP and websocket', async () => {
    const running = await start({ maxSessions: 2 });
    try {
      const first = `${running.base}/000/${randomUUID()}`;
      assert.equal((await POST(`${first}/xhr`)).body, 'o\n');
      const ws = await WsClient.connect(`${running.base}/websocket`);
      const refused = await POST(`${running.base}/000/${randomUUID()}/xhr`);
      assert.deepEqual([refused.status, refused.body], [503, 'Too many sessions.']);
      assert.equal(await handshakeStatus(`${running.base}/000/${randomUUID()}/websocket`), 503);
      assert.equal(
        (await POST(`${first}/xhr_send`, { body: '["still fine"]' })).status,
        204,
        'existing ones work',
      );
      assert.equal((await POST(`${first}/xhr`)).body, 'a["still fine"]\n');
      await ws.close();
      await until(() => running.service.stats().connections === 1, 1000, 'the websocket to go');
      assert.equal((await POST(`${running.base}/000/${randomUUID()}/xhr`)).body, 'o\n');
    } finally {
      await running.server.close();
    }
  });
});

describe('backpressure', () => {
  it('returns false from write() above highWaterMark, then emits drain once the client has read', async () => {
    const running = await start({ highWaterMark: 1000 }, () => undefined);
    try {
      const path = `${running.base}/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
      await until(() => running.connections.length === 1, 1000, 'connection');
      const conn = running.connections[0];
      let drained = 0;
      conn.on('drain', () => drained++);
      assert.equal(conn.write('x'.repeat(600)), true);
      assert.equal(conn.write('y'.repeat(600)), false, 'above the high water mark');
      await delay(50);
      assert.equal(drained, 0, 'nobody read yet');
      const r = await POST(`${path}/xhr`);
      assert.equal(r.body, `a["${'x'.repeat(600)}","${'y'.repeat(600)}"]\n`);
      await until(() => drained === 1, 1000, 'drain');
      assert.equal(conn.write('z'), true);
    } finally {
      await running.server.close();
    }
  });

  it('closes a session whose client stops polling once maxQueuedBytes are waiting', async () => {
    const running = await start({ maxQueuedBytes: 10_000 }, () => undefined);
    try {
      const path = `${running.base}/000/${randomUUID()}`;
      await POST(`${path}/xhr`);
      await until(() => running.connections.length === 1, 1000, 'connection');
      const conn = running.connections[0];
      let closes = 0;
      conn.on('close', () => closes++);
      let accepted = 0;
      while (conn.write('m'.repeat(1000))) accepted++;
      while (conn.readyState === 1) conn.write('m'.repeat(1000));
      assert.equal(accepted, 10, '10 messages of 1000 bytes fit in 10 000 bytes');
      assert.equal(closes, 1);
      assert.equal(conn.write('more'), false);
      assert.equal((await POST(`${path}/xhr`)).body, 'c[1013,"Client not reading"]\n');
    } finally {
      await running.server.close();
    }
  });

  it('cuts a websocket whose client stops reading', async () => {
    const running = await start({ maxQueuedBytes: 256 * 1024 }, () => undefined);
    const socketUrl = `${running.base}/000/${randomUUID()}/websocket`.replace(/^http/, 'ws');
    const ws = new WebSocket(socketUrl);
    ws.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      await until(() => running.connections.length === 1, 1000, 'connection');
      // The client's socket stops reading: the server's socket buffer fills up.
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const conn = running.connections[0];
      let closes = 0;
      conn.on('close', () => closes++);
      const chunk = 'w'.repeat(16 * 1024);
      for (let i = 0; i < 10_000 && conn.readyState === 1; i++) {
        conn.write(chunk);
        if (i % 16 === 15) await delay(1);
      }
      assert.equal(conn.readyState, 3, 'closed instead of buffering without bound');
      assert.equal(closes, 1);
    } finally {
      ws.terminate();
      await running.server.close();
    }
  });
});

describe('limits', () => {
  it('closes a websocket with 1009 past maxPayload', async () => {
    const running = await start({ websocketOptions: { maxPayload: 1024 } });
    try {
      const ws = await WsClient.connect(`${running.base}/000/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      ws.send(JSON.stringify(['x'.repeat(500)]));
      assert.equal(await ws.recv(), `a["${'x'.repeat(500)}"]`);
      ws.send(JSON.stringify(['x'.repeat(2000)]));
      assert.equal((await ws.expectClose()).code, 1009);
    } finally {
      await running.server.close();
    }
  });

  it('answers 413 while reading a send body past maxBodySize, before it has all arrived', async () => {
    const running = await start({ maxBodySize: 1000 });
    try {
      const path = `/s/000/${randomUUID()}`;
      await POST(`${running.base.slice(0, -2)}${path}/xhr`);
      const conn = await RawConnection.connect(running.server.url);
      try {
        conn.send(`POST ${path}/xhr_send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
        conn.send(`7d0\r\n["${'x'.repeat(1998)}\r\n`);
        const head = await conn.readHead();
        assert.equal(head.status, 413);
        assert.equal(head.headers['connection'], 'close');
      } finally {
        conn.close();
      }
    } finally {
      await running.server.close();
    }
  });

  it('answers 408 to a send body that stalls, and the session lives on', async () => {
    const running = await start({ bodyTimeout: 200 });
    try {
      const path = `/s/000/${randomUUID()}`;
      const url = running.server.url;
      await POST(`${url}${path}/xhr`);
      const conn = await RawConnection.connect(url);
      try {
        conn.sendRequest('POST', `${path}/xhr_send`, { headers: { 'Content-Length': '100' } });
        conn.send('["only part');
        const head = await conn.readHead();
        assert.equal(head.status, 408);
      } finally {
        conn.close();
      }
      assert.equal((await POST(`${url}${path}/xhr_send`, { body: '["whole"]' })).status, 204);
      assert.equal((await POST(`${url}${path}/xhr`)).body, 'a["whole"]\n');
    } finally {
      await running.server.close();
    }
  });
});

describe('service.close()', () => {
  it('says 1001 to every session after what is queued, refuses new ones, and resolves', async () => {
    const running = await start({}, () => undefined);
    try {
      const streaming = await stream('POST', `${running.base}/000/${randomUUID()}/xhr_streaming`);
      await streaming.read();
      assert.equal(await streaming.read(), 'o\n');
      const ws = await WsClient.connect(`${running.base}/000/${randomUUID()}/websocket`);
      assert.equal(await ws.recv(), 'o');
      const raw = await WsClient.connect(`${running.base}/websocket`);
      const polling = `${running.base}/000/${randomUUID()}`;
      await POST(`${polling}/xhr`);
      await until(() => running.connections.length === 4, 1000, 'four connections');
      let closes = 0;
      for (const conn of running.connections) {
        conn.on('close', () => closes++);
        conn.write('last');
      }
      await running.service.close();
      assert.equal(closes, 4);
      assert.equal(await streaming.read(), 'a["last"]\n');
      assert.equal(await streaming.read(), 'c[1001,"Server shutting down"]\n');
      assert.equal(await streaming.read(), null);
      assert.equal(await ws.recv(), 'a["last"]');
      assert.equal(await ws.recv(), 'c[1001,"Server shutting down"]');
      assert.equal((await ws.expectClose()).code, 1001);
      assert.equal(await raw.recv(), 'last');
      assert.equal((await raw.expectClose()).code, 1001);
      const refused = await POST(`${running.base}/000/${randomUUID()}/xhr`);
      assert.equal(refused.status, 503);
      assert.equal(heldSessionCount(running.service), 0);
    } finally {
      await running.server.close();
    }
  });

  it('lets a process that closes its service and server exit by itself', async () => {
    const script = join(__dirname, '..', '..', 'build', 'spec', 'fixtures', 'graceful-exit.js');
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`the process did not exit by itself; it printed ${JSON.stringify(output)}`));
      }, 8000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.equal(code, 0);
    assert.match(output, /closed with 3 sessions open/);
  });
});

describe('a connection cut in the middle of a stream', () => {
  it('is logged through log and ends that one session, nothing else', async () => {
    const lines: string[] = [];
    const running = await start(
      { log: (severity, message) => lines.push(`${severity}: ${message}`) },
      () => undefined,
    );
    try {
      const first = await stream('POST', `${running.base}/000/${randomUUID()}/xhr_streaming`);
      const second = await stream('POST', `${running.base}/000/${randomUUID()}/xhr_streaming`);
      await first.read();
      await first.read();
      await second.read();
      await second.read();
      await until(() => running.connections.length === 2, 1000, 'two connections');
      const [cut, healthy] = running.connections;
      first.connection.close();
      await until(() => cut.readyState === 3, 1000, 'the cut session to close');
      assert.ok(
        lines.some((line) => /^debug: xhr-streaming connection gone/.test(line)),
        JSON.stringify(lines),
      );
      assert.equal(healthy.readyState, 1);
      healthy.write('still here');
      assert.equal(await second.read(), 'a["still here"]\n');
      second.close();
    } finally {
      await running.server.close();
    }
  });
});
