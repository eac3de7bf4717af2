/**
 * The clients sockjs-express/redis takes, told apart by what they have: real node-redis and
 * ioredis objects (never connected here) get the adapter of their kind, anything else a
 * TypeError; and the channel names of one server and of a cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { channelNames } from '../../lib/redis/channels';
import { linkTo } from '../../lib/redis/clients';

/** The part of a key Redis hashes to pick its slot: its hash tag when it has one, else all of it. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close <= open + 1 ? key : key.slice(open + 1, close);
}

describe('the Redis clients the broker takes', () => {
  it('tells the four kinds apart by their methods', async () => {
    const ioredis = new Redis({ lazyConnect: true });
    const ioredisCluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    const kinds = [
      [createClient(), 'node-redis', false],
      [createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] }), 'node-redis cluster', true],
      [ioredis, 'ioredis', false],
      [ioredisCluster, 'ioredis Cluster', true],
    ] as const;
    try {
      for (const [client, kind, sharded] of kinds) {
        const link = linkTo(client);
        assert.equal(link.kind, kind);
        assert.equal(link.sharded, sharded, `${kind} is sharded: ${sharded}`);
      }
    } finally {
      ioredis.disconnect();
      ioredisCluster.disconnect();
    }
  });

  it('refuses anything else with a TypeError naming the clients', () => {
    for (const value of [
      null,
      undefined,
      'redis://127.0.0.1',
      {},
      { duplicate: () => ({}) },
      () => undefined,
    ]) {
      assert.throws(() => linkTo(value), { name: 'TypeError', message: /createCluster\(\).*ioredis/ });
    }
  });
});

describe('channel names', () => {
  const groups = ['room', 'a}b', '{x}', 'a:group:b', '}', 'ünï'];

  it('on one server are the plain names of earlier versions', () => {
    const names = channelNames('sockjs', false);
    assert.equal(names.all, 'sockjs:all');
    assert.equal(names.group('room'), 'sockjs:group:room');
    assert.equal(names.node('h/1/0000000a'), 'sockjs:node:h/1/0000000a');
    assert.equal(names.sessionKey('/echo', 'abc'), 'sockjs:session:/echo/abc');
    for (const group of groups) assert.equal(names.groupOf(names.group(group)), group);
    assert.equal(names.groupOf(names.all), null);
    assert.equal(names.groupOf('sockjs:group:'), null);
  });

  it('on a cluster are one hash tag each: a group is one slot, groups and processes differ', () => {
    const names = channelNames('sockjs', true);
    assert.equal(names.all, '{sockjs:all}');
    for (const group of groups) {
      const channel = names.group(group);
      assert.equal(names.groupOf(channel), group, `${group} round-trips`);
      assert.ok(hashTag(channel).startsWith('sockjs:group:'), `${channel} is tagged by its group`);
    }
    assert.notEqual(hashTag(names.group('one')), hashTag(names.group('two')));
    assert.notEqual(hashTag(names.node('h/1/0000000a')), hashTag(names.node('h/2/0000000b')));
    assert.equal(names.groupOf('sockjs:group:room'), null, 'a plain name is no cluster group');
    assert.equal(names.groupOf(names.node('h/1/0000000a')), null);
  });
});
