/**
 * The signed envelope of sockjs-express/redis (docs/scale-out.md, "The signed envelope"),
 * without Redis: what is taken, and why the rest is dropped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPLAY_WINDOW_MS, SignedEnvelopes, type Opened } from '../../lib/redis/envelope';
import { Signer } from '../../lib/redis/signing';

const SENDER = 'host-1/123/0a1b2c3d';
const SECRET = 'sixteen bytes at least, here';

/** A sender and a receiver sharing a secret, with a clock the spec moves. */
function pair(secret = SECRET) {
  let now = 1_700_000_000_000;
  const clock = (): number => now;
  return {
    sender: new SignedEnvelopes(new Signer(secret), SENDER, clock),
    receiver: new SignedEnvelopes(new Signer(SECRET), 'host-2/456/00000000', clock),
    advance: (ms: number) => (now += ms),
  };
}

function payloadOf(opened: Opened | string): string {
  assert.equal(typeof opened, 'object', `dropped: ${String(opened)}`);
  return (opened as Opened).payload;
}

describe('the signed envelope', () => {
  it('is `sjs1 <time> <seq> <sender> <mac>`, a newline, and the payload as it is', () => {
    const { sender } = pair();
    const sealed = sender.seal('sockjs:all', 'héllo\nworld');
    assert.match(sealed, /^sjs1 1700000000000 1 host-1\/123\/0a1b2c3d [A-Za-z0-9_-]{43}\nhéllo\nworld$/);
  });

  it('opens what a broker with the same secret sealed, with its sender', () => {
    const { sender, receiver } = pair();
    const opened = receiver.open('sockjs:all', sender.seal('sockjs:all', '{"type":"ping"}'));
    assert.deepEqual(opened, { payload: '{"type":"ping"}', sender: SENDER });
  });

  it('drops what is unsigned, or signed with another secret', () => {
    const { receiver } = pair();
    const other = pair('another secret, as long as ours');
    assert.equal(receiver.open('c', 'plain text'), 'unsigned');
    assert.equal(receiver.open('c', ''), 'unsigned');
    assert.equal(receiver.open('c', other.sender.seal('c', 'x')), 'forged');
  });

  it('drops a message moved to another channel, or changed in any byte', () => {
    const { sender, receiver } = pair();
    const sealed = sender.seal('sockjs:group:a', 'payload');
    assert.equal(receiver.open('sockjs:group:b', sealed), 'forged');
    assert.equal(receiver.open('sockjs:group:a', sealed + ' '), 'forged');
    assert.equal(receiver.open('sockjs:group:a', sealed.replace(' 1 ', ' 2 ')), 'forged');
    assert.equal(receiver.open('sockjs:group:a', sealed.replace(SENDER, 'host-9/123/0a1b2c3d')), 'forged');
    assert.equal(payloadOf(receiver.open('sockjs:group:a', sealed)), 'payload');
  });

  it('takes each message once, and none older than one already taken from its sender', () => {
    const { sender, receiver } = pair();
    const first = sender.seal('c', 'first');
    const second = sender.seal('c', 'second');
    assert.equal(payloadOf(receiver.open('c', second)), 'second');
    assert.equal(receiver.open('c', second), 'replayed');
    assert.equal(receiver.open('c', first), 'replayed');
  });

  it('drops messages signed more than the replay window ago, or ahead', () => {
    const { sender, receiver, advance } = pair();
    const old = sender.seal('c', 'old');
    advance(REPLAY_WINDOW_MS + 1);
    assert.equal(receiver.open('c', old), 'stale');
    const ahead = sender.seal('c', 'ahead');
    advance(-2 * REPLAY_WINDOW_MS - 2);
    assert.equal(receiver.open('c', ahead), 'stale');
  });

  it('finds the replays of a sender silent for minutes stale', () => {
    const { sender, receiver, advance } = pair();
    const taken = sender.seal('c', 'taken');
    assert.equal(payloadOf(receiver.open('c', taken)), 'taken');
    for (let i = 0; i < 3; i++) {
      advance(REPLAY_WINDOW_MS);
      receiver.open('c', 'unsigned: the receiver sweeps its senders all the same');
    }
    assert.equal(receiver.open('c', taken), 'stale');
  });

  it('reads no more than a short first line, whatever follows', () => {
    const { receiver } = pair();
    assert.equal(receiver.open('c', 'sjs1 ' + 'x'.repeat(1_000_000)), 'malformed');
    assert.equal(receiver.open('c', 'sjs1 ' + '1 '.repeat(100) + '\npayload'), 'malformed');
    assert.equal(receiver.open('c', `sjs1 1 1 __proto__ ${'A'.repeat(43)}\n{}`), 'malformed');
    assert.equal(receiver.open('c', `sjs1 1e3 1 ${SENDER} ${'A'.repeat(43)}\n{}`), 'malformed');
  });
});
