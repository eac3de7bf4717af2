/**
 * End to end with the real npm sockjs-client in Node, one forced transport at a time:
 * echo of hard messages, client close, server close, and what the application sees on
 * its Connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';

import { createServer } from 'node:http';
import { attachUpgrade, sockjsMiddleware, type Connection } from '../../lib';
import { delay, listen, type TestServer } from '../helpers/server';
import { ClientHarness, STEP_TIMEOUT_MS, within, type NodeClientTransport } from '../helpers/sockjs-client';

/** Transports sockjs-client 1.6 runs in Node without a DOM. */
const TRANSPORTS = [
  'websocket',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
] as const satisfies readonly NodeClientTransport[];

/** The receiving URL path each transport opens the session with. */
const RECEIVE_PATH: Record<(typeof TRANSPORTS)[number], string> = {
  websocket: 'websocket',
  'xhr-streaming': 'xhr_streaming',
  'xhr-polling': 'xhr',
  eventsource: 'eventsource',
};

/** A session's disconnect delay: how long a lost client's session may linger. */
const DISCONNECT_DELAY_MS = 500;

const EVERY_C0_BUT_NUL = Array.from({ length: 0x1f }, (_, i) => String.fromCharCode(i + 1)).join('');

/** About 100 KiB of text (over 100 KiB as UTF-8) with non-ASCII characters mixed in. */
const LARGE_MESSAGE = ('x'.repeat(1000) + 'é€😀𝄞\u2028' + 'x'.repeat(20)).repeat(100);

const HARD_MESSAGES: readonly { name: string; text: string }[] = [
  { name: 'plain ASCII', text: 'Hello, world!' },
  { name: '100 KiB mixed with unicode', text: LARGE_MESSAGE },
  { name: 'emoji and other astral characters', text: '😀 𝄞 🎉👩‍👩‍👧 \u{10FFFF}' },
  { name: 'line and paragraph separators', text: 'a\u2028b\u2029c' },
  { name: 'NUL', text: '\u0000' },
  { name: 'NUL inside text', text: 'before\u0000after' },
  { name: 'zero-width non-joiner', text: 'a\u200cb' },
  { name: 'byte order mark', text: '\ufeff' },
  { name: 'non-character U+FFFF', text: '\uffff' },
  { name: 'quotes and backslashes', text: '"\\\'' },
  { name: 'percent escapes that are not meant', text: '%41' },
  { name: 'a lone percent sign', text: '%' },
  { name: 'percent at the end', text: '100%' },
  { name: 'script-closing HTML', text: '</script><script>alert(1)</script>' },
  { name: 'an HTML entity', text: '&amp;' },
  { name: 'a JSON array', text: '["a"]' },
  { name: 'a JSON object', text: '{"a":1}' },
  { name: 'only spaces', text: '   ' },
  { name: 'every control character from U+0001 to U+001F', text: EVERY_C0_BUT_NUL },
];

/** What the application saw of one connection. */
interface ServerSide {
  readonly connection: Connection;
  closeEvents: number;
  readonly closed: Promise<void>;
}

/** Hands out the next `connection` of a service as a ServerSide record. */
class ConnectionWatcher {
  private readonly pending: ServerSide[] = [];
  private waiter: ((side: ServerSide) => void) | null = null;

  accept(connection: Connection): void {
    let onClosed: () => void = () => undefined;
    const side: ServerSide = {
      connection,
      closeEvents: 0,
      closed: new Promise<void>((resolve) => (onClosed = resolve)),
    };
    connection.on('close', () => {
      side.closeEvents += 1;
      onClosed();
    });
    if (this.waiter !== null) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter(side);
    } else {
      this.pending.push(side);
    }
  }

  next(): Promise<ServerSide> {
    const ready = this.pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return within(
      new Promise<ServerSide>((resolve) => (this.waiter = resolve)),
      STEP_TIMEOUT_MS,
      'a server connection',
    );
  }
}

describe('the npm sockjs-client in Node against sockjs-express', () => {
  let server: TestServer;
  const echoConnections = new ConnectionWatcher();
  const closeAfterConnections = new ConnectionWatcher();
  const clients: ClientHarness[] = [];

  before(async () => {
    const echo = sockjsMiddleware({ disconnectDelay: DISCONNECT_DELAY_MS });
    echo.on('connection', (conn) => {
      echoConnections.accept(conn);
      conn.on('data', (message) => conn.write(message));
    });

    const closeAfter = sockjsMiddleware({ disconnectDelay: DISCONNECT_DELAY_MS });
    closeAfter.on('connection', (conn) => {
      closeAfterConnections.accept(conn);
      conn.once('data', () => conn.close(4001, 'Bye now'));
    });

    const app = express();
    // Every request to /echo carries a cookie and credentials, as a browser's would: the
    // connection must not expose them.
    app.use('/echo', (req, _res, next) => {
      req.headers.cookie = 'session=secret';
      req.headers.authorization = 'Basic c2VjcmV0';
      next();
    });
    app.use('/echo', echo);
    app.use('/close-after', closeAfter);
    const httpServer = createServer(app);
    attachUpgrade(httpServer);
    server = await listen(httpServer);
  });

  after(async () => {
    await Promise.allSettled(clients.map((harness) => harness.close()));
    await server.close();
  });

  function connect(path: string, transport: NodeClientTransport): ClientHarness {
    const harness = new ClientHarness(server.url + path, { transports: [transport] });
    clients.push(harness);
    return harness;
  }

  for (const transport of TRANSPORTS) {
    describe(`over ${transport}`, () => {
      it(`opens with ${transport} itself, not a fallback`, async () => {
        const harness = connect('/echo', transport);
        const serverSide = echoConnections.next();
        await harness.open();
        assert.equal(harness.client.transport, transport);
        assert.equal((await serverSide).connection.protocol, transport);
        await harness.close();
      });

      it('echoes every hard message identically, one at a time', async () => {
        const harness = connect('/echo', transport);
        const serverSide = echoConnections.next();
        await harness.open();
        assert.equal(harness.client.transport, transport);
        await serverSide;
        for (const { name, text } of HARD_MESSAGES) {
          harness.client.send(text);
          assert.equal(await harness.nextMessage(), text, `${name} comes back unchanged`);
        }
        assert.equal(harness.client.transport, transport, 'no transport change along the way');
        await harness.close();
      });

      it('echoes a burst of hard messages in the order they were sent', async () => {
        const harness = connect('/echo', transport);
        await harness.open();
        await echoConnections.next();
        for (const { text } of HARD_MESSAGES) harness.client.send(text);
        const echoed: unknown[] = [];
        for (let i = 0; i < HARD_MESSAGES.length; i++) echoed.push(await harness.nextMessage());
        assert.deepEqual(
          echoed,
          HARD_MESSAGES.map(({ text }) => text),
        );
        await harness.close();
      });

      it('keeps delivering past the response limit (several 100 KiB messages)', async () => {
        const harness = connect('/echo', transport);
        await harness.open();
        await echoConnections.next();
        const messages = ['a', 'b', 'c', 'd'].map((tag) => tag + LARGE_MESSAGE + tag);
        for (const text of messages) harness.client.send(text);
        for (const text of messages) assert.equal(await harness.nextMessage(), text);
        harness.client.send('still there?');
        assert.equal(await harness.nextMessage(), 'still there?');
        assert.equal(harness.client.transport, transport);
        await harness.close();
      });

      it('shows the application who connected: protocol, address, safe headers, URL, prefix', async () => {
        const harness = connect('/echo', transport);
        const serverSide = echoConnections.next();
        await harness.open();
        const { connection } = await serverSide;

        assert.equal(connection.protocol, transport);
        assert.equal(connection.remoteAddress, '127.0.0.1');
        assert.equal(typeof connection.remotePort, 'number');
        assert.equal(connection.prefix, '/echo');
        assert.equal(connection.headers.host, `127.0.0.1:${server.port}`);
        assert.ok(!('cookie' in connection.headers), 'no cookie header on the connection');
        assert.ok(!('authorization' in connection.headers), 'no authorization header on the connection');
        assert.match(connection.pathname, new RegExp(`^/echo/[^/]+/[^/]+/${RECEIVE_PATH[transport]}$`));
        assert.ok(
          connection.url.startsWith(connection.pathname),
          `${connection.url} starts with its pathname`,
        );
        await harness.close();
      });

      it('closes the server connection exactly once when the client closes with 1000', async () => {
        const harness = connect('/echo', transport);
        const serverSide = echoConnections.next();
        await harness.open();
        const side = await serverSide;
        harness.client.send('ping');
        assert.equal(await harness.nextMessage(), 'ping');

        const event = await harness.close(1000, 'Done');
        assert.equal(event.code, 1000);
        assert.equal(event.reason, 'Done');
        await within(side.closed, STEP_TIMEOUT_MS, 'the server connection to close');
        // Past the disconnect delay, when the session is forgotten: still one close.
        await delay(DISCONNECT_DELAY_MS * 2);
        assert.equal(side.closeEvents, 1);
        assert.equal(side.connection.readyState, 3);
        assert.equal(side.connection.write('too late'), false, 'writing to a closed connection is refused');
        assert.equal(harness.closeEvents, 1);
      });

      it('passes a server close(4001, "Bye now") to the client as its close event', async () => {
        const harness = connect('/close-after', transport);
        const serverSide = closeAfterConnections.next();
        await harness.open();
        assert.equal(harness.client.transport, transport);
        const side = await serverSide;
        assert.equal(side.connection.prefix, '/close-after');

        harness.client.send('hello');
        const event = await within(harness.closed, STEP_TIMEOUT_MS, 'the client close event');
        assert.equal(event.code, 4001);
        assert.equal(event.reason, 'Bye now');
        assert.equal(event.wasClean, true);
        assert.deepEqual(harness.received, [], 'no message before the close');

        await within(side.closed, STEP_TIMEOUT_MS, 'the server connection to close');
        await delay(DISCONNECT_DELAY_MS * 2);
        assert.equal(side.closeEvents, 1);
        assert.equal(harness.closeEvents, 1);
      });
    });
  }
});
