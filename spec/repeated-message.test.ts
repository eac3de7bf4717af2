/** lib/session/repeated-message.ts: one SharedMessage for a text sessions send one after another. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RepeatedMessage } from '../lib/session/repeated-message';

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('RepeatedMessage', () => {
  it('shares a text from its second session on, one SharedMessage for the run', () => {
    const repeated = new RepeatedMessage();
    assert.equal(repeated.sharedFor('hello'), null);
    const shared = repeated.sharedFor('hel' + 'lo'.slice(0));
    assert.equal(shared?.text, 'hello');
    assert.equal(repeated.sharedFor('hello'), shared);
    assert.equal(repeated.sharedFor('other'), null);
    const again = repeated.sharedFor('other');
    assert.notEqual(again, null);
    assert.equal(repeated.sharedFor('hello'), null, 'a text sent before another one starts over');
  });

  it('forgets the text at the end of a flush run, with no tick of its own', async () => {
    const repeated = new RepeatedMessage();
    const scheduled: unknown[] = [];
    const nodeNextTick = process.nextTick;
    process.nextTick = (callback: (...args: unknown[]) => void, ...args: unknown[]): void => {
      scheduled.push(callback);
      nodeNextTick(callback, ...args);
    };
    try {
      repeated.runStarted();
      assert.equal(repeated.sharedFor('hello'), null);
      assert.notEqual(repeated.sharedFor('hello'), null, 'shared within the run');
      repeated.runEnded();
      assert.equal(scheduled.length, 0, 'no tick scheduled during the run');
      assert.equal(repeated.sharedFor('hello'), null, 'forgotten once the run ended');
      assert.equal(scheduled.length, 1, 'outside a run a text is forgotten after its tick');
    } finally {
      process.nextTick = nodeNextTick;
    }
    await nextTick();
    assert.equal(repeated.sharedFor('hello'), null);
  });

  it('forgets the text after the tick', async () => {
    const repeated = new RepeatedMessage();
    assert.equal(repeated.sharedFor('hello'), null);
    await nextTick();
    assert.equal(repeated.sharedFor('hello'), null);
    assert.notEqual(repeated.sharedFor('hello'), null);
  });
});
