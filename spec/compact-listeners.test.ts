import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { compactListeners } from '../lib/session/compact-listeners';
import { Connection } from '../lib/session/connection';
import type { Session } from '../lib/session/session';

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

describe('compactListeners', () => {
  it('replaces the table of an emitter without listeners by one that inherits no names', () => {
    const emitter = new EventEmitter();
    const before = tableOf(emitter);
    compactListeners(emitter);
    const table = tableOf(emitter);
    assert.notEqual(table, before);
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(table)), null);
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
    const session = { readyState: 1 } as unknown as Session;
    const connection = new Connection(session, '/echo');
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(tableOf(connection))), null);
    const messages: string[] = [];
    connection.on('data', (message: string) => messages.push(message));
    connection.emit('data', 'hello');
    assert.deepEqual(messages, ['hello']);
  });
});
