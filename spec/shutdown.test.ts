/**
 * `close(graceMs)`: it resolves only once every session is gone, websockets included: each
 * has finished its close handshake, or was cut when the grace ran out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import express from 'express';
import { attachUpgrade, sockjsMiddleware, type SockjsRouter } from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { heldSessionCount } from './helpers/internals';
import { delay, listen, until, type TestServer } from './helpers/server';
import { POST, stream } from './helpers/http';
import { WsClient } from './helpers/websocket';

interface Running {
  server: TestServer;
  service: SockjsRouter;
  base: string;
  closed: Connection[];
}

async function start(): Promise<Running> {
  const service = sockjsMiddleware({ log: () => undefined });
  const closed: Connection[] = [];
  service.on('connection', (conn) => {
    conn.on('data', (message: string) => conn.write(message));
    conn.on('close', () => closed.push(conn));
  });
  const app = express();
  app.use('/s', service);
  const http = createServer(app);
  attachUpgrade(http);
  const server = await listen(http);
  return { server, service, base: `${server.url}/s`, closed };
}

/**
 * A websocket peer that completes the handshake, reads everything, and never answers a
 * close frame (nor anything else). Resolves with its socket and what it has read.
 */
async function silentPeer(
  base: string,
): Promise<{ socket: Socket; received: () => Buffer; gone: Promise<void> }> {
  const url = new URL(`${base}/000/${randomUUID()}/websocket`);
  const socket = connect(Number(url.port), url.hostname);
  const chunks: Buffer[] = [];
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const received = (): Buffer => Buffer.concat(chunks);
  const openFrame = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x81, 0x01, 0x6f]);
  await until(() => received().includes(openFrame), 2000, 'the open frame');
  return { socket, received, gone };
}

/** Settles a flag when the promise does, so a test can look without waiting. */
function watch(promise: Promise<void>): { settled: boolean } {
  const state = { settled: false };
  void promise.then(() => (state.settled = true));
  return state;
}

describe('close(graceMs)', () => {
  it('resolves as soon as every websocket has answered the close, long before the grace', async () => {
    const running = await start();
    try {
      const clients = await Promise.all(
        [1, 2].map(() => WsClient.connect(`${running.base}/000/${randomUUID()}/websocket`)),
      );
      for (const client of clients) assert.equal(await client.recv(), 'o');
      const closing = running.service.close(60_000);
      const state = watch(closing);
      for (const client of clients) {
        assert.equal(await client.recv(), 'c[1001,"Server shutting down"]');
        const { code, reason } = await client.expectClose();
        assert.deepEqual([code, reason], [1001, 'Server shutting down']);
      }
      // A grace of a minute: resolving now means it waited for the handshakes, not the timer.
      await until(() => state.settled, 2000, 'close() to resolve');
      assert.equal(running.closed.length, 2);
      assert.equal(heldSessionCount(running.service), 0);
    } finally {
      await running.server.close();
    }
  });

  it('waits for a peer that never answers the close, and cuts it when the grace runs out', async () => {
    const running = await start();
    const peer = await silentPeer(running.base);
    try {
      const closing = running.service.close(500);
      const state = watch(closing);
      let cutBeforeResolved = false;
      void peer.gone.then(() => (cutBeforeResolved = !state.settled));
      await delay(200);
      assert.equal(state.settled, false, 'close() resolved while the websocket was still open');
      assert.equal(peer.socket.destroyed, false);
      assert.equal(heldSessionCount(running.service), 1, 'the websocket session still counts');
      assert.ok(peer.received().includes(Buffer.from('c[1001,"Server shutting down"]')));
      await closing;
      await peer.gone;
      assert.ok(cutBeforeResolved, 'close() resolved before the peer was cut');
      assert.equal(running.closed.length, 1);
      assert.equal(heldSessionCount(running.service), 0);
    } finally {
      peer.socket.destroy();
      await running.server.close();
    }
  });

  it('ends HTTP sessions at once and resolves with the websockets, answering and silent', async () => {
    const running = await start();
    const sockets: Socket[] = [];
    try {
      const streaming = await stream('POST', `${running.base}/000/${randomUUID()}/xhr_streaming`);
      assert.equal((await streaming.read())?.length, 2049, 'prelude');
      assert.equal(await streaming.read(), 'o\n');
      const polling = `${running.base}/000/${randomUUID()}`;
      assert.equal((await POST(`${polling}/xhr`)).body, 'o\n');
      const answering = await WsClient.connect(`${running.base}/000/${randomUUID()}/websocket`);
      assert.equal(await answering.recv(), 'o');
      const silent = await silentPeer(running.base);
      sockets.push(silent.socket);
      await until(() => running.service.stats().connections === 4, 2000, 'four connections');

      const closing = running.service.close(500);
      const state = watch(closing);
      assert.equal(await streaming.read(), 'c[1001,"Server shutting down"]\n');
      assert.equal(await streaming.read(), null, 'the streaming response ends');
      assert.equal(await answering.recv(), 'c[1001,"Server shutting down"]');
      const { code, reason } = await answering.expectClose();
      assert.deepEqual([code, reason], [1001, 'Server shutting down']);
      const refused = await POST(`${running.base}/000/${randomUUID()}/xhr`);
      assert.deepEqual([refused.status, refused.body], [503, 'Server shutting down.']);
      assert.equal(state.settled, false, 'a websocket is still in its close handshake');
      await closing;
      await silent.gone;
      assert.equal(running.closed.length, 4, 'the application heard close for every connection');
      assert.equal(heldSessionCount(running.service), 0);
      assert.equal(running.service.stats().connections, 0);
    } finally {
      for (const socket of sockets) socket.destroy();
      await running.server.close();
    }
  });
});
