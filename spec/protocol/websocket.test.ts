/**
 * Port of the websocket sections of sockjs-protocol 0.3.3 ("WebsocketHttpErrors",
 * "WebsocketHybi10" for RFC 6455 only, "Raw WebSocket url"), using the `ws` client.
 * Hixie-76 and the hybi-07/08 drafts are not required (PROTOCOL.md section 8).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { delay, GET, POST, RawConnection, splitUrl } from '../helpers/http';
import {
  assertNoRaw,
  assertSameMessages,
  collectMessages,
  newSession,
  verify404,
  verify405,
} from '../helpers/protocol';
import { ConnectionClosedError, WsClient } from '../helpers/websocket';

const UPGRADE_HEADERS = {
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'x3JJHMbDL1EzLkh9GBhXDw==',
};
const EXPECTED_ACCEPT = 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=';

/** Server set of PROTOCOL.md section 3 (lone surrogates cannot travel in UTF-8 anyway). */
const MUST_NOT_APPEAR_RAW = /[\x00-\x1f\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/;

/** Runs `body` with a connected client and always closes it. */
async function withWs(url: string, body: (ws: WsClient) => Promise<void>): Promise<void> {
  const ws = await WsClient.connect(url);
  try {
    await body(ws);
  } finally {
    await ws.close();
  }
}

/** Expects `ws` to be closed by the server (a message first is a failure). */
async function assertClosedByServer(ws: WsClient): Promise<void> {
  await assert.rejects(ws.recv(), ConnectionClosedError);
}

/** Sends a raw upgrade request and returns the response head; the socket is closed after. */
async function rawUpgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string>;
}> {
  const c = await RawConnection.connect(url);
  try {
    const r = await c.request('GET', splitUrl(url).path, { headers });
    return { status: r.status, headers: r.headers };
  } finally {
    c.close();
  }
}

describe('websocket', () => {
  let server: ConformanceServer;
  let base: string;
  let closeBase: string;
  let wsoffBase: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
    closeBase = `${server.url}/close`;
    wsoffBase = `${server.url}/disabled_websocket_echo`;
  });

  after(async () => {
    await server.close();
  });

  describe('http errors', () => {
    it('answers a plain GET with 400 and a short plain-text reason', async () => {
      const r = await GET(`${base}/0/0/websocket`);
      assert.equal(r.status, 400);
      assert.ok(r.body.length > 0, 'a reason is given');
    });

    it('refuses an upgrade whose Connection header lost "upgrade" with 400', async () => {
      const r = await GET(`${base}/0/0/websocket`, {
        headers: { Upgrade: 'WebSocket', Connection: 'close' },
      });
      assert.equal(r.status, 400);
      assert.ok(r.body.length > 0, 'a reason is given');
    });

    it('answers POST with 405, Allow: GET, no body and no Content-Type', async () => {
      const variants: ReadonlyArray<Record<string, string>> = [
        { Upgrade: 'WebSocket', Connection: 'Upgrade' },
        {},
      ];
      for (const headers of variants) {
        const r = await POST(`${base}/0/0/websocket`, { headers });
        verify405(r);
        assert.equal(r.headers['allow'], 'GET');
      }
    });
  });

  describe('framed (RFC 6455)', () => {
    it('opens with o, ignores empty frames and echoes an array frame', async () => {
      await withWs(`${base}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        // The server must ignore empty messages.
        ws.send('');
        ws.send('["a"]');
        assert.equal(await ws.recv(), 'a["a"]');
      });
    });

    it('accepts a single JSON string frame and ignores an empty array', async () => {
      await withWs(`${base}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        ws.send('"single"');
        assert.equal(await ws.recv(), 'a["single"]');
        ws.send('[]');
        ws.send('["a","b"]');
        // Messages sent together may come back in one frame or several.
        assert.deepEqual(await collectMessages(() => ws.recv(), 2), ['a', 'b']);
      });
    });

    it('sends the close frame, then closes the websocket', async () => {
      await withWs(`${closeBase}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        assert.equal(await ws.recv(), 'c[3000,"Go away!"]');
        await assertClosedByServer(ws);
      });
    });

    it('answers an RFC 6455 upgrade with sane headers', async () => {
      const r = await rawUpgrade(`${base}${newSession()}/websocket`, {
        ...UPGRADE_HEADERS,
        Origin: 'http://asd',
      });
      assert.equal(r.status, 101);
      assert.equal(r.headers['sec-websocket-accept'], EXPECTED_ACCEPT);
      assert.equal((r.headers['connection'] ?? '').toLowerCase(), 'upgrade');
      assert.equal((r.headers['upgrade'] ?? '').toLowerCase(), 'websocket');
      assert.equal(r.headers['content-length'], undefined);
    });

    it('accepts "Connection: keep-alive, Upgrade" (as Firefox sends it)', async () => {
      const r = await rawUpgrade(`${base}${newSession()}/websocket`, {
        ...UPGRADE_HEADERS,
        Connection: 'keep-alive, Upgrade',
      });
      assert.equal(r.status, 101);
      assert.equal(r.headers['sec-websocket-accept'], EXPECTED_ACCEPT);
    });

    it('ends the connection on broken JSON', async () => {
      await withWs(`${base}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        ws.send('["a');
        await assertClosedByServer(ws);
      });
    });

    it('lets two websockets share a session id, and reuses it once closed', async () => {
      const url = `${base}${newSession()}/websocket`;
      const ws1 = await WsClient.connect(url);
      try {
        assert.equal(await ws1.recv(), 'o');
        const ws2 = await WsClient.connect(url);
        try {
          assert.equal(await ws2.recv(), 'o');

          ws1.send('["a"]');
          assert.equal(await ws1.recv(), 'a["a"]');
          ws2.send('["b"]');
          assert.equal(await ws2.recv(), 'a["b"]');
          assert.equal(ws1.isClosed || ws2.isClosed, false, 'neither websocket was closed');
        } finally {
          await ws2.close();
        }
      } finally {
        await ws1.close();
      }

      // The same session id may be reused right after the previous connection closed.
      await withWs(url, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        ws.send('["a"]');
        assert.equal(await ws.recv(), 'a["a"]');
      });
    });

    it('decodes every character the client escapes and escapes what the server must', async () => {
      await withWs(`${base}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        let text = '';
        for (let i = 0; i < 65536; i++) {
          if (i >= 0xd800 && i <= 0xdfff) continue;
          text += String.fromCharCode(i);
        }
        const messages = [text, '\u{1F600}', 'a"b\\c'];
        ws.send(JSON.stringify(messages));
        const received = await collectMessages(async () => {
          const frame = await ws.recv();
          assertNoRaw(frame, MUST_NOT_APPEAR_RAW, 'websocket frame');
          return frame;
        }, messages.length);
        assertSameMessages(received, messages, 'websocket round trip');
      });
    });

    it('escapes lone surrogates so they survive the UTF-8 websocket', async () => {
      await withWs(`${base}${newSession()}/websocket`, async (ws) => {
        assert.equal(await ws.recv(), 'o');
        ws.send('["\\ud800"]');
        assert.equal((await ws.recv()).toLowerCase(), 'a["\\ud800"]');
        ws.send('["x\\udfffy"]');
        assert.equal((await ws.recv()).toLowerCase(), 'a["x\\udfffy"]');
      });
    });

    it('is answered with 404 when websockets are disabled', async () => {
      const r = await rawUpgrade(`${wsoffBase}${newSession()}/websocket`, UPGRADE_HEADERS);
      assert.equal(r.status, 404);
      verify404(await GET(`${wsoffBase}${newSession()}/websocket`));
    });
  });

  describe('raw', () => {
    it('echoes messages without any SockJS framing', async () => {
      await withWs(`${base}/websocket`, async (ws) => {
        ws.send('Hello world!\uffff');
        assert.equal(await ws.recv(), 'Hello world!\uffff');
        // No JSON parsing on the raw url: this is just text.
        ws.send('["a"');
        assert.equal(await ws.recv(), '["a"');
      });
    });

    it('turns an application close into a websocket close with its code and reason', async () => {
      const ws = await WsClient.connect(`${closeBase}/websocket`);
      try {
        const info = await ws.expectClose();
        assert.equal(info.code, 3000);
        assert.equal(info.reason, 'Go away!');
      } finally {
        await ws.close();
      }
    });

    it('answers a raw RFC 6455 upgrade with sane headers', async () => {
      const r = await rawUpgrade(`${base}/websocket`, UPGRADE_HEADERS);
      assert.equal(r.status, 101);
      assert.equal(r.headers['sec-websocket-accept'], EXPECTED_ACCEPT);
      assert.equal(r.headers['content-length'], undefined);
    });

    it('is answered with 404 when websockets are disabled', async () => {
      const r = await rawUpgrade(`${wsoffBase}/websocket`, UPGRADE_HEADERS);
      assert.equal(r.status, 404);
    });

    it('answers POST with 405', async () => {
      const r = await POST(`${base}/websocket`);
      verify405(r, 'GET');
    });
  });
});

describe('websocket timing', () => {
  let server: ConformanceServer;
  let base: string;

  before(async () => {
    server = await startConformanceServer({ heartbeatDelay: 200, disconnectDelay: 300 });
    base = `${server.url}/echo`;
  });

  after(async () => {
    await server.close();
  });

  it('sends h frames on an idle framed websocket', async () => {
    await withWs(`${base}/000/${randomUUID()}/websocket`, async (ws) => {
      assert.equal(await ws.recv(), 'o');
      assert.equal(await ws.recv(1000), 'h');
      assert.equal(await ws.recv(1000), 'h');
      ws.send('["a"]');
      let frame = await ws.recv();
      if (frame === 'h') frame = await ws.recv();
      assert.equal(frame, 'a["a"]');
    });
  });

  it('keeps a framed websocket session beyond disconnectDelay', async () => {
    await withWs(`${base}/000/${randomUUID()}/websocket`, async (ws) => {
      assert.equal(await ws.recv(), 'o');
      await delay(700);
      ws.send('["still"]');
      let frame = await ws.recv();
      while (frame === 'h') frame = await ws.recv();
      assert.equal(frame, 'a["still"]');
    });
  });

  it('sends no open or heartbeat frames on the raw websocket', async () => {
    await withWs(`${base}/websocket`, async (ws) => {
      await delay(600); // three heartbeat periods
      ws.send('ping');
      assert.equal(await ws.recv(), 'ping');
    });
  });
});
