import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import express from 'express';
import WebSocket, { WebSocketServer } from 'ws';
import { attachUpgrade, sockjsMiddleware } from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { frameParserOf, skipRepeatedEnds, skipsRepeatedEnds } from '../lib/transports/repeated-end';
import { listen, until, type TestServer } from './helpers/server';
import { WsClient, toWsUrl } from './helpers/websocket';

/** A stream with the guard installed the way a websocket's socket gets it. */
function guarded<T extends Writable>(stream: T): T {
  const ws = {} as WebSocket;
  skipRepeatedEnds(ws, stream);
  assert.ok(skipsRepeatedEnds(stream));
  return stream;
}

function finished(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.once('finish', () => resolve()));
}

describe('repeated end() on a websocket stream', () => {
  it('ends a live stream as end() always did', async () => {
    const stream = guarded(new PassThrough());
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const done = finished(stream);
    assert.equal(stream.end(), stream);
    await done;
    assert.ok(stream.writableFinished);
  });

  it('still writes a last chunk given to end()', async () => {
    const stream = guarded(new PassThrough());
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
    stream.end('last words');
    await ended;
    assert.deepEqual(chunks, ['last words']);
  });

  it('answers end() on a finished stream with the stream itself, and no error', async () => {
    const stream = guarded(new PassThrough());
    stream.resume();
    const errors: Error[] = [];
    stream.on('error', (error) => errors.push(error));
    const done = finished(stream);
    stream.end();
    await done;
    assert.equal(stream.end(), stream);
    assert.equal(stream.end(), stream);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(errors, []);
  });

  it("keeps Node's error for a caller that asks for it with a callback", async () => {
    const stream = guarded(new PassThrough());
    stream.resume();
    const done = finished(stream);
    stream.end();
    await done;
    const error = await new Promise<Error | null | undefined>((resolve) => stream.end(resolve));
    assert.equal((error as NodeJS.ErrnoException | null)?.code, 'ERR_STREAM_ALREADY_FINISHED');
  });

  it('finds the frame parser in the installed ws, where the saving depends on it', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as { port: number };
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}/`);
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', reject);
    });
    const ws = await serverSide;
    const parser = frameParserOf(ws);
    assert.ok(parser instanceof Writable, 'ws keeps its frame parser in `_receiver`');
    skipRepeatedEnds(ws, null);
    assert.ok(skipsRepeatedEnds(parser));
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.close();
    await clientClosed;
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});

describe('websocket sessions skip repeated end() calls', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  const closed: Connection[] = [];

  before(async () => {
    const service = sockjsMiddleware({ log: () => undefined });
    service.on('connection', (conn) => {
      conn.on('data', (message: string) => conn.write(message));
      conn.on('close', () => closed.push(conn));
    });
    const app = express();
    app.use('/echo', service);
    const http = createServer(app);
    http.on('connection', (socket: Socket) => sockets.push(socket));
    attachUpgrade(http);
    server = await listen(http);
  });

  after(() => server.close());

  it('guards the socket of a session, which still echoes and closes cleanly', async () => {
    const client = await WsClient.connect(toWsUrl(`${server.url}/echo/000/guarded/websocket`));
    assert.equal(await client.recv(), 'o');
    client.socket.send('["ping"]');
    assert.equal(await client.recv(), 'a["ping"]');
    const socket = sockets.at(-1) as Socket;
    assert.ok(skipsRepeatedEnds(socket));
    const socketErrors: Error[] = [];
    socket.on('error', (error) => socketErrors.push(error));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await client.close();
    await socketClosed;
    await until(() => closed.length === 1, 2000, 'the session to close');
    assert.deepEqual(socketErrors, []);
    assert.ok(socket.destroyed);
  });
});
