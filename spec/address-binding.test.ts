import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import express from 'express';
import { createServer, sockjsMiddleware, type Connection, type SockjsOptions } from '../lib/index';
import { TRICKS_IN_USE } from '../lib/internals';
import { listen, until, type TestServer } from './helpers/server';
import { POST, request, stream, type StreamingResponse } from './helpers/http';

/** The client that opens each session, and another one: two source addresses on loopback. */
const OWNER = '127.0.0.1';
const OTHER = '127.0.0.2';

/** The fast path needs Node's `socket.server` (lib/internals.ts); without it the app serves all. */
const FAST = TRICKS_IN_USE['server-of-socket'];

interface Bed {
  readonly server: TestServer;
  /** Base URL of the service. */
  readonly base: string;
  /** URLs of the requests the app's middleware saw. */
  readonly seen: string[];
  /** Messages the application received, by session. */
  readonly received: string[];
  /** Every connection, in the order they were announced. */
  readonly connections: Connection[];
  close(): Promise<void>;
}

/** An echo-less service at /echo that records what it receives; `trustProxy` sets Express's. */
async function bed(options: SockjsOptions, trustProxy?: string): Promise<Bed> {
  const app = express();
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  const seen: string[] = [];
  app.use((req, _res, next) => {
    seen.push(req.url);
    next();
  });
  // Its clients send neither Origin nor Referer, which jsonp and htmlfile need unless '*'.
  const service = sockjsMiddleware({ origins: '*', ...options });
  const received: string[] = [];
  const connections: Connection[] = [];
  service.on('connection', (conn) => {
    connections.push(conn);
    conn.on('data', (message: string) => received.push(message));
  });
  app.use('/echo', service);
  const server = await listen(createHttpServer(app));
  return {
    server,
    base: `${server.url}/echo`,
    seen,
    received,
    connections,
    close: async () => {
      await service.close();
      await server.close();
    },
  };
}

/** Reads a stream until its text so far contains `text`; returns that text. */
async function readUntil(response: StreamingResponse, text: string): Promise<string> {
  let got = '';
  while (!got.includes(text)) {
    const piece = await response.read();
    if (piece === null) throw new Error(`the stream ended before ${JSON.stringify(text)}: ${got}`);
    got += piece;
  }
  return got;
}

/** The open frame `o`, as each transport writes it. */
const OPEN_FRAME: Record<string, string> = {
  xhr: 'o\n',
  xhr_streaming: 'o\n',
  eventsource: 'data: o\r\n',
  htmlfile: 'p("o");',
  jsonp: 'cb("o");',
};

interface ReceivingTransport {
  readonly suffix: string;
  readonly method: 'GET' | 'POST';
  readonly query: string;
  readonly streaming: boolean;
}

const RECEIVING: readonly ReceivingTransport[] = [
  { suffix: 'xhr', method: 'POST', query: '', streaming: false },
  { suffix: 'jsonp', method: 'GET', query: '?c=cb', streaming: false },
  { suffix: 'xhr_streaming', method: 'POST', query: '', streaming: true },
  { suffix: 'eventsource', method: 'GET', query: '', streaming: true },
  { suffix: 'htmlfile', method: 'GET', query: '?c=cb', streaming: true },
];

/** A send from `from`: xhr_send or jsonp_send. */
function send(path: string, transport: 'xhr_send' | 'jsonp_send', message: string, from: string) {
  const body = JSON.stringify([message]);
  return transport === 'xhr_send'
    ? POST(`${path}/xhr_send`, { body, localAddress: from })
    : POST(`${path}/jsonp_send`, {
        body: `d=${encodeURIComponent(body)}`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        localAddress: from,
      });
}

/** Asserts the answer to a request for an unknown session. */
function assertUnknownSession(r: { status: number; body: string }, what: string): void {
  assert.equal(r.status, 404, what);
  assert.equal(r.body, 'Not found\n', what);
}

for (const fastPath of [false, true]) {
  describe(`bindSessionToAddress${fastPath ? ' with fastPath' : ''}`, () => {
    let b: Bed;
    before(async () => {
      b = await bed({ bindSessionToAddress: true, fastPath });
    });
    after(() => b.close());

    for (const transport of RECEIVING) {
      it(`${transport.suffix}: another address gets 404 and nothing of the session; the owner loses nothing`, async () => {
        const path = `${b.base}/000/${randomUUID()}`;
        const url = `${path}/${transport.suffix}${transport.query}`;
        const open = OPEN_FRAME[transport.suffix];
        const before = b.connections.length;
        let owner: StreamingResponse | null = null;
        try {
          if (transport.streaming) {
            owner = await stream(transport.method, url, { localAddress: OWNER });
            await readUntil(owner, open);
          } else {
            const opened = await request(transport.method, url, { localAddress: OWNER });
            assert.ok(opened.body.includes(open), opened.body);
          }
          await until(() => b.connections.length === before + 1, 2000, 'the connection announced');
          const conn = b.connections[before];
          b.seen.length = 0;

          // Polling: queued for the owner's next poll, which the other address must not take.
          if (!transport.streaming) conn.write('for-the-owner-1');
          assertUnknownSession(
            await request(transport.method, url, { localAddress: OTHER }),
            `${transport.suffix} from another address`,
          );
          for (const sender of ['xhr_send', 'jsonp_send'] as const) {
            assertUnknownSession(await send(path, sender, 'evil', OTHER), `${sender} from another address`);
          }
          assert.equal(b.seen.length, 3, 'the other address went through the app');

          if (transport.streaming && owner !== null) {
            conn.write('for-the-owner-1');
            assert.ok((await readUntil(owner, 'for-the-owner-1')).includes('for-the-owner-1'));
          } else {
            const poll = await request(transport.method, url, { localAddress: OWNER });
            assert.equal(poll.status, 200);
            assert.ok(poll.body.includes('for-the-owner-1'), poll.body);
          }
          assert.equal((await send(path, 'xhr_send', 'from-the-owner', OWNER)).status, 204);
          assert.equal((await send(path, 'jsonp_send', 'from-the-owner-too', OWNER)).status, 200);
          await until(() => b.received.includes('from-the-owner-too'), 2000, 'the owner heard');
          assert.equal(b.received.includes('evil'), false);
          assert.equal(conn.readyState, 1, 'the session is still open');
          if (fastPath && FAST) assert.equal(b.seen.length, 3, "the owner's requests took the fast path");
        } finally {
          owner?.close();
        }
      });
    }
  });
}

describe('bindSessionToAddress behind a proxy', () => {
  for (const fastPath of [false, true]) {
    it(`binds to the address Express reads with trust proxy${fastPath ? ', on the fast path too' : ''}`, async () => {
      const b = await bed({ bindSessionToAddress: true, fastPath }, 'loopback');
      try {
        const path = `${b.base}/000/${randomUUID()}`;
        const client = { 'X-Forwarded-For': '203.0.113.7' };
        const opened = await POST(`${path}/xhr`, { headers: client, localAddress: OWNER });
        assert.equal(opened.body, 'o\n');
        await until(() => b.connections.length === 1, 2000, 'the connection announced');
        b.seen.length = 0;

        // The same client through another (trusted) proxy is the same client.
        const viaOther = await POST(`${path}/xhr_send`, {
          body: '["via-the-other-proxy"]',
          headers: client,
          localAddress: OTHER,
        });
        assert.equal(viaOther.status, 204);
        if (fastPath && FAST) assert.equal(b.seen.length, 0, 'served on the fast path');

        // Another client through the same proxy, and the proxy itself, are not.
        const other = { 'X-Forwarded-For': '198.51.100.9' };
        assertUnknownSession(
          await POST(`${path}/xhr_send`, { body: '["evil"]', headers: other, localAddress: OWNER }),
          'another client behind the proxy',
        );
        assertUnknownSession(
          await POST(`${path}/xhr`, { headers: other, localAddress: OWNER }),
          'a poll of another client behind the proxy',
        );
        assertUnknownSession(
          await POST(`${path}/xhr_send`, { body: '["evil"]', localAddress: OWNER }),
          'the proxy itself',
        );
        // The owner's poll gets its message: nothing was taken.
        b.connections[0].write('for-the-owner');
        const poll = await POST(`${path}/xhr`, { headers: client, localAddress: OWNER });
        assert.equal(poll.body, 'a["for-the-owner"]\n');
        assert.deepEqual(b.received, ['via-the-other-proxy']);
      } finally {
        await b.close();
      }
    });
  }

  it('ignores X-Forwarded-For without trust proxy: the socket address decides', async () => {
    const b = await bed({ bindSessionToAddress: true, fastPath: true });
    try {
      const path = `${b.base}/000/${randomUUID()}`;
      const claimed = { 'X-Forwarded-For': '203.0.113.7' };
      assert.equal((await POST(`${path}/xhr`, { headers: claimed, localAddress: OWNER })).body, 'o\n');
      const spoofed = await POST(`${path}/xhr_send`, {
        body: '["evil"]',
        headers: claimed,
        localAddress: OTHER,
      });
      assertUnknownSession(spoofed, 'the same X-Forwarded-For from another address');
      const owner = await POST(`${path}/xhr_send`, {
        body: '["mine"]',
        headers: { 'X-Forwarded-For': '198.51.100.9' },
        localAddress: OWNER,
      });
      assert.equal(owner.status, 204);
      await until(() => b.received.length === 1, 2000, 'the message delivered');
      assert.deepEqual(b.received, ['mine']);
    } finally {
      await b.close();
    }
  });
});

describe('bindSessionToAddress', () => {
  it('changes nothing when off (the default): any address may use a session', async () => {
    const b = await bed({});
    try {
      const path = `${b.base}/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`, { localAddress: OWNER })).body, 'o\n');
      assert.equal((await send(path, 'xhr_send', 'from-elsewhere', OTHER)).status, 204);
      await until(() => b.received.length === 1, 2000, 'the message delivered');
      assert.deepEqual(b.received, ['from-elsewhere']);
      b.connections[0].write('to-whoever-polls');
      assert.equal((await POST(`${path}/xhr`, { localAddress: OTHER })).body, 'a["to-whoever-polls"]\n');
    } finally {
      await b.close();
    }
  });

  it('binds to the socket address without Express (createServer)', async () => {
    const sockjs = createServer({ prefix: '/echo', bindSessionToAddress: true, log: () => {} });
    const received: string[] = [];
    sockjs.on('connection', (conn) => conn.on('data', (message: string) => received.push(message)));
    const server = await listen(createHttpServer());
    sockjs.installHandlers(server.server);
    try {
      const path = `${server.url}/echo/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`, { localAddress: OWNER })).body, 'o\n');
      assertUnknownSession(await send(path, 'xhr_send', 'evil', OTHER), 'a send from another address');
      assertUnknownSession(await POST(`${path}/xhr`, { localAddress: OTHER }), 'a poll from another address');
      assert.equal((await send(path, 'xhr_send', 'mine', OWNER)).status, 204);
      await until(() => received.length === 1, 2000, 'the message delivered');
      assert.deepEqual(received, ['mine']);
    } finally {
      await sockjs.close();
      await server.close();
    }
  });
});
