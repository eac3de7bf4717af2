/**
 * lib/internals.ts: each trick that relies on a dependency's private state, with and
 * without it. `npm test` runs this file twice: as is, and with SOCKJS_EXPRESS_PUBLIC_ONLY=1,
 * where every trick is off and the public path must do the same job.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import express, { type NextFunction, type Request, type Response as ExpressResponse } from 'express';
import WebSocket, { WebSocketServer } from 'ws';
import { attachUpgrade, sockjsMiddleware } from '../lib/index';
import { compactListeners, directRouter, TRICKS_IN_USE, writesFramesDirectly } from '../lib/internals';
import { Connection, type ConnectionSession } from '../lib/session/connection';
import { listen, until, type TestServer } from './helpers/server';
import { WsClient, toWsUrl } from './helpers/websocket';
import { GET } from './helpers/http';

const PUBLIC_ONLY = (process.env.SOCKJS_EXPRESS_PUBLIC_ONLY ?? '') !== '';

describe('which tricks are in use', () => {
  it('every one with the dependencies installed here, none with SOCKJS_EXPRESS_PUBLIC_ONLY=1', () => {
    for (const [trick, inUse] of Object.entries(TRICKS_IN_USE)) assert.equal(inUse, !PUBLIC_ONLY, trick);
  });
});

/** The listener table Node keeps on an emitter. */
function tableOf(emitter: EventEmitter): object {
  const table: unknown = Reflect.get(emitter, '_events');
  assert.equal(typeof table, 'object');
  return table as object;
}

function compacted(): EventEmitter {
  const emitter = new EventEmitter();
  compactListeners(emitter);
  return emitter;
}

/** Whether an emitter's table is the compact one (else Node's own, with a null prototype). */
function isCompact(emitter: EventEmitter): boolean {
  const proto: unknown = Object.getPrototypeOf(tableOf(emitter));
  return proto !== null && Object.getPrototypeOf(proto) === null;
}

describe('compact-listeners', () => {
  it('replaces the table of an emitter without listeners by one that inherits no names', () => {
    const emitter = new EventEmitter();
    const before = tableOf(emitter);
    compactListeners(emitter);
    const table = tableOf(emitter);
    assert.equal(table !== before, TRICKS_IN_USE['compact-listeners']);
    assert.equal(isCompact(emitter), TRICKS_IN_USE['compact-listeners']);
    assert.deepEqual(Reflect.ownKeys(table), []);
  });

  it('leaves an emitter that already has listeners alone', () => {
    const emitter = new EventEmitter();
    const listener = (): void => undefined;
    emitter.on('data', listener);
    const before = tableOf(emitter);
    compactListeners(emitter);
    assert.equal(tableOf(emitter), before);
    assert.deepEqual(emitter.listeners('data'), [listener]);
  });

  it('keeps every EventEmitter behaviour: on, once, off, order, counts, names', () => {
    const emitter = compacted();
    const heard: string[] = [];
    const first = (value: string): void => void heard.push(`first ${value}`);
    const second = (value: string): void => void heard.push(`second ${value}`);
    emitter.on('data', first);
    emitter.on('data', second);
    emitter.once('close', () => heard.push('close'));
    emitter.prependListener('data', (value: string) => heard.push(`prepended ${value}`));
    assert.equal(emitter.listenerCount('data'), 3);
    assert.deepEqual(emitter.eventNames(), ['data', 'close']);
    assert.equal(emitter.emit('data', 'a'), true);
    assert.equal(emitter.emit('close'), true);
    assert.equal(emitter.emit('close'), false);
    emitter.off('data', first);
    emitter.emit('data', 'b');
    assert.deepEqual(heard, ['prepended a', 'first a', 'second a', 'close', 'prepended b', 'second b']);
    emitter.removeAllListeners('data');
    assert.deepEqual(emitter.eventNames(), []);
    assert.equal(emitter.emit('data', 'c'), false);
  });

  it('finds no listener for names that plain objects inherit', () => {
    const emitter = compacted();
    for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      assert.equal(emitter.listenerCount(name), 0, name);
      assert.equal(emitter.emit(name), false, name);
    }
    let heard = 0;
    emitter.on('__proto__', () => heard++);
    emitter.on('toString', () => heard++);
    assert.equal(emitter.emit('__proto__'), true);
    assert.equal(emitter.emit('toString'), true);
    assert.equal(heard, 2);
    assert.deepEqual(emitter.eventNames(), ['__proto__', 'toString']);
  });

  it("still throws an 'error' nobody listens for, and delivers one that is listened for", () => {
    const emitter = compacted();
    assert.throws(() => emitter.emit('error', new Error('boom')), /boom/);
    let caught: unknown = null;
    emitter.on('error', (error: unknown) => (caught = error));
    const error = new Error('heard');
    emitter.emit('error', error);
    assert.equal(caught, error);
  });

  it('reports newListener and removeListener as Node does', () => {
    const emitter = compacted();
    const seen: string[] = [];
    emitter.on('newListener', (name: string) => seen.push(`new ${name}`));
    emitter.on('removeListener', (name: string) => seen.push(`removed ${name}`));
    const listener = (): void => undefined;
    emitter.on('data', listener);
    emitter.off('data', listener);
    assert.deepEqual(seen, ['new removeListener', 'new data', 'removed data']);
  });

  it('is what a Connection starts with, and its events still reach the application', () => {
    const session: ConnectionSession = {
      readyState: 1,
      send: () => true,
      sendShared: () => true,
      close: () => true,
    };
    const connection = new Connection(session, '/echo');
    assert.equal(isCompact(connection), TRICKS_IN_USE['compact-listeners']);
    const messages: string[] = [];
    connection.on('data', (message: string) => messages.push(message));
    connection.emit('data', 'hello');
    assert.deepEqual(messages, ['hello']);
  });
});

/**
 * Counts the calls that reach Node's own end() on a stream already over, with no argument:
 * each one builds an Error that is dropped. ws makes such calls on the socket and on its
 * frame parser of every websocket its peer closes.
 */
function countRepeatedEnds(ignored: ReadonlySet<unknown>): { readonly count: number; restore(): void } {
  const counter = { count: 0, restore: (): void => undefined };
  const originals: [object, Writable['end']][] = [];
  for (const proto of [Writable.prototype, Socket.prototype]) {
    const original = proto.end;
    originals.push([proto, original]);
    proto.end = function countingEnd(this: Writable, ...args: unknown[]): Writable {
      if (ignored.has(this)) return (original as (...a: unknown[]) => Writable).apply(this, args);
      if (args.length === 0 && this.writableEnded && (this.writableFinished || this.destroyed))
        counter.count++;
      return (original as (...a: unknown[]) => Writable).apply(this, args);
    } as Writable['end'];
  }
  counter.restore = () => {
    for (const [proto, original] of originals) (proto as Writable).end = original;
  };
  return counter;
}

describe('repeated-end', () => {
  let server: TestServer;
  let closed = 0;

  before(async () => {
    const service = sockjsMiddleware({ log: () => undefined });
    service.on('connection', (conn) => {
      conn.on('data', (message: string) => conn.write(message));
      conn.on('close', () => closed++);
    });
    const app = express();
    app.use('/echo', service);
    const http = createServer(app);
    attachUpgrade(http);
    server = await listen(http);
  });

  after(() => server.close());

  it('keeps the end() calls ws repeats after a close from reaching Node, and the session closes cleanly', async () => {
    const client = await WsClient.connect(toWsUrl(`${server.url}/echo/000/guarded/websocket`));
    assert.equal(await client.recv(), 'o');
    client.socket.send('["ping"]');
    assert.equal(await client.recv(), 'a["ping"]');
    // The client's own streams are ws's too, and nobody guards them.
    const clientSide = client.socket as unknown as { _socket: unknown; _receiver: unknown };
    const ends = countRepeatedEnds(new Set([clientSide._socket, clientSide._receiver]));
    try {
      await client.close();
      await until(() => closed === 1, 2000, 'the session to close');
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      ends.restore();
    }
    if (TRICKS_IN_USE['repeated-end']) assert.equal(ends.count, 0, 'repeated end() calls reached Node');
    else assert.ok(ends.count > 0, 'without the trick, ws repeats end() (the trick has a reason to exist)');
  });
});

describe('frames-past-sender', () => {
  it('writes frames directly only to websockets without an extension, and only when in use', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as { port: number };
    const open = async (deflate: boolean): Promise<[WebSocket, WebSocket]> => {
      const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate });
      await new Promise<void>((resolve, reject) => {
        client.once('open', () => resolve());
        client.once('error', reject);
      });
      return [client, await serverSide];
    };
    try {
      const [plainClient, plain] = await open(false);
      const [deflateClient, deflated] = await open(true);
      assert.equal(writesFramesDirectly(plain), TRICKS_IN_USE['frames-past-sender']);
      assert.equal(writesFramesDirectly(deflated), false, 'permessage-deflate frames go through ws');
      plainClient.terminate();
      deflateClient.terminate();
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});

describe('direct-router', () => {
  let server: TestServer;
  const calls: string[] = [];
  before(async () => {
    const handler = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
      calls.push(req.url ?? '');
      if (req.url === '/throw') throw new Error('handler failed');
      if (req.url === '/pass') next();
      else res.end('handler');
    };
    const routerOf = (): express.Router => {
      const inner = express.Router();
      inner.use(handler);
      return directRouter(inner as unknown as typeof handler, handler) as unknown as express.Router;
    };
    const alone = routerOf();
    const extended = routerOf();
    extended.use((_req, res) => {
      res.end('added later');
    });
    const app = express();
    app.use('/alone', alone);
    app.use('/extended', extended);
    app.use((_req: Request, res: ExpressResponse) => {
      res.end('the app');
    });
    app.use((error: Error, _req: Request, res: ExpressResponse, _next: NextFunction) => {
      res.status(500).end(`error handler: ${error.message}`);
    });
    server = await listen(app);
  });
  after(() => server.close());

  it('calls the handler, hands exceptions to the error handlers and next() on, with or without the trick', async () => {
    assert.deepEqual(await GET(`${server.url}/alone/x`).then((r) => [r.status, r.body]), [200, 'handler']);
    assert.deepEqual(await GET(`${server.url}/alone/throw`).then((r) => [r.status, r.body]), [
      500,
      'error handler: handler failed',
    ]);
    assert.deepEqual(await GET(`${server.url}/alone/pass`).then((r) => [r.status, r.body]), [200, 'the app']);
    assert.deepEqual(calls, ['/x', '/throw', '/pass']);
  });

  it("takes the router's own dispatch once the application adds a layer", async () => {
    assert.deepEqual(await GET(`${server.url}/extended/pass`).then((r) => [r.status, r.body]), [
      200,
      'added later',
    ]);
  });

  it('is in use unless turned off', () => {
    assert.equal(TRICKS_IN_USE['direct-router'], !PUBLIC_ONLY);
  });
});
