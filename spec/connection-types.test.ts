/**
 * The types of a Connection's events, checked by the compiler: this file compiles only while
 * every `@ts-expect-error` line below is an error. The tests then run the same listeners on a
 * real Connection. The published declarations (dist/, `npm run build`) are checked too, as
 * an application compiles against them: with its own `Express.Locals`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { Connection, ReadyState, type ConnectionEvents } from '../lib';
import type { ConnectionSession } from '../lib/session/connection';

/** An open session that records what its Connection asks of it. */
function openSession(): ConnectionSession & { sent: string[] } {
  return {
    readyState: ReadyState.OPEN,
    sent: [],
    send(message: string) {
      this.sent.push(message);
      return true;
    },
    sendShared() {
      return true;
    },
    close: () => true,
  };
}

/** Every line here must be a compile error; the function is never called. */
export function compileErrors(conn: Connection): void {
  // @ts-expect-error an event a Connection never emits
  conn.on('dta', () => undefined);
  // @ts-expect-error `close` has no arguments
  conn.on('close', (code: number) => code);
  // @ts-expect-error messages are strings
  conn.on('data', (message: number) => message);
  // @ts-expect-error messages are strings, under the sockjs-node 0.2 name too
  conn.once('message', (message: Buffer) => message);
  // @ts-expect-error `drain` has no arguments
  conn.addListener('drain', (bytes: number) => bytes);
  // @ts-expect-error an unknown event, removed
  conn.off('connection', () => undefined);
  // @ts-expect-error an unknown event, counted
  conn.listenerCount('dta');
  // @ts-expect-error listeners of `data` take a string
  const wrong: ((message: number) => void)[] = conn.listeners('data');
  void wrong;
}

describe('Connection event types', () => {
  it('hands data and message listeners the message as a string, close and end none', () => {
    const conn = new Connection(openSession(), '/echo');
    const heard: string[] = [];
    conn.on('data', (message) => heard.push(`data:${message.toUpperCase()}`));
    conn.once('message', (message: string) => heard.push(`message:${message}`));
    conn.prependListener('end', () => heard.push('end'));
    conn.addListener('close', () => heard.push('close'));
    conn.deliver('hi');
    conn.deliver('again');
    conn.closed();
    assert.deepEqual(heard, ['data:HI', 'message:hi', 'data:AGAIN', 'end', 'close']);
  });

  it('returns the connection from every listener method, for chaining', () => {
    const conn = new Connection(openSession(), '/echo');
    const onDrain = (): void => undefined;
    const onError = (error: Error): void => assert.fail(error);
    const chained = conn
      .on('drain', onDrain)
      .prependOnceListener('error', onError)
      .removeListener('drain', onDrain)
      .off('error', onError)
      .removeAllListeners('data');
    assert.equal(chained, conn);
    assert.equal(conn.listenerCount('drain'), 0);
  });

  it('names each event with its listener arguments in ConnectionEvents', () => {
    const conn = new Connection(openSession(), '/echo');
    const added: (keyof ConnectionEvents)[] = [];
    conn.on('newListener', (event) => added.push(event));
    const onData = (...args: ConnectionEvents['data']): void => void args;
    conn.on('data', onData);
    assert.deepEqual(added, ['data']);
    const listeners: ((message: string) => void)[] = conn.listeners('data');
    assert.deepEqual(listeners, [onData]);
  });
});

/** The repository root, from build/spec/connection-types.test.js. */
const ROOT = resolve(__dirname, '..', '..');

/**
 * An application of the published package: it declares its `Express.Locals`, reads them in
 * middleware and on connections without casts, and has its wrong uses refused.
 */
const APPLICATION = `
import express from 'express';
import { sockjsMiddleware, type Connection } from ${JSON.stringify(join(ROOT, 'dist', 'index.js'))};

interface User {
  id: number;
  name: string;
}

declare global {
  namespace Express {
    interface Locals {
      user: User;
    }
  }
}

const app = express();
const chat = sockjsMiddleware();
app.use('/chat', (_req, res, next) => {
  res.locals.user = { id: 1, name: 'ada' };
  next();
}, chat);

chat.on('connection', (conn: Connection) => {
  const user: User = conn.locals.user;
  const id: number = conn.locals.user.id;
  conn.locals.room = 'lobby';
  conn.on('data', (message) => conn.write(user.name + id + message.toUpperCase()));
  conn.once('close', () => undefined);
  // @ts-expect-error a key the application did not declare is unknown
  const room: string = conn.locals.room;
  // @ts-expect-error the declared type holds
  conn.locals.user = 'ada';
  // @ts-expect-error an event a Connection never emits
  conn.on('dta', () => undefined);
  // @ts-expect-error close has no arguments
  conn.on('close', (code: number) => code);
  // @ts-expect-error messages are strings
  conn.on('data', (message: number) => message);
  void room;
});
`;

describe('the published Connection types, in an application', () => {
  it('type conn.locals from Express.Locals, and events from ConnectionEvents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockjs-types-'));
    try {
      const file = join(dir, 'app.ts');
      writeFileSync(file, APPLICATION);
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.Node16,
        moduleResolution: ts.ModuleResolutionKind.Node16,
        esModuleInterop: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      });
      const problems = ts
        .getPreEmitDiagnostics(program)
        .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      assert.deepEqual(problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
