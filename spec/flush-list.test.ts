/** lib/session/flush-list.ts: the sessions queued in a tick, flushed together in order. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlushList } from '../lib/session/flush-list';

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('FlushList', () => {
  it('flushes every session added in a tick once, in order, in a later tick', async () => {
    const list = new FlushList();
    const flushed: string[] = [];
    for (const name of ['a', 'b', 'c']) list.add({ flush: () => flushed.push(name) });
    assert.equal(flushed.length, 0);
    await nextTick();
    assert.deepEqual(flushed, ['a', 'b', 'c']);
    list.add({ flush: () => flushed.push('d') });
    await nextTick();
    assert.deepEqual(flushed, ['a', 'b', 'c', 'd']);
  });

  it('flushes in the same run what a flush adds', async () => {
    const list = new FlushList();
    const flushed: string[] = [];
    list.add({
      flush: () => {
        flushed.push('first');
        list.add({ flush: () => flushed.push('added by first') });
      },
    });
    list.add({ flush: () => flushed.push('second') });
    await nextTick();
    assert.deepEqual(flushed, ['first', 'second', 'added by first']);
  });

  it('lets an exception go up, and still flushes the sessions after it, once', async () => {
    const list = new FlushList();
    const flushed: string[] = [];
    list.add({ flush: () => flushed.push('before') });
    list.add({
      flush: () => {
        throw new Error('listener failed');
      },
    });
    list.add({ flush: () => flushed.push('after') });
    assert.throws(() => list.run(), /listener failed/);
    assert.deepEqual(flushed, ['before']);
    await nextTick();
    await nextTick();
    assert.deepEqual(flushed, ['before', 'after']);
  });

  it('tells its watcher when each run begins and ends, also when a flush throws', async () => {
    const events: string[] = [];
    const list = new FlushList({
      runStarted: () => events.push('start'),
      runEnded: () => events.push('end'),
    });
    list.add({ flush: () => events.push('a') });
    await nextTick();
    assert.deepEqual(events, ['start', 'a', 'end']);
    events.length = 0;
    list.add({
      flush: () => {
        throw new Error('listener failed');
      },
    });
    list.add({ flush: () => events.push('b') });
    assert.throws(() => list.run(), /listener failed/);
    assert.deepEqual(events, ['start', 'end']);
    await nextTick();
    await nextTick();
    // The tick add() scheduled runs too (here on an empty list): every run is closed.
    assert.deepEqual(events.slice(0, 5), ['start', 'end', 'start', 'b', 'end']);
    assert.deepEqual(events.slice(5), events.slice(5).length === 0 ? [] : ['start', 'end']);
  });
});
