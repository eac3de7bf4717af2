/**
 * Code written against the main entry's `Broker` compiles unchanged against the broker of
 * `sockjs-express/redis`: this file is type-checked with the specs, and fails to build when
 * the two drift apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createBroker,
  type Broker,
  type BrokerOptions,
  type Connection,
  type ConnectionSource,
} from '../lib';
import type {
  Broker as RedisBroker,
  BrokerOptions as RedisBrokerOptions,
  ConnectionSource as RedisConnectionSource,
} from '../lib/redis';

/** True when A and B are the same type; otherwise the constant below fails to compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Every member the two brokers share, with one signature. */
const sameMembers: Same<Pick<RedisBroker, keyof Broker>, Broker> = true;
const sameSources: Same<RedisConnectionSource, ConnectionSource> = true;
/** Options written for the main entry's broker are options of the Redis one, plus `redis`. */
const sharedOptions: Same<
  Omit<RedisBrokerOptions, Exclude<keyof RedisBrokerOptions, keyof BrokerOptions>>,
  BrokerOptions
> = true;

/** An application written against the main entry's broker: a room with commands. */
function chatRoom(broker: Broker, source: ConnectionSource): void {
  broker.attach(source);
  source.on('connection', (conn: Connection) => {
    conn.on('data', (text: string) => {
      const [command, room] = text.split(' ', 2);
      if (command === '/join') void broker.join(conn, room).then(() => conn.write(`joined ${room}`));
      else if (command === '/leave') void broker.leave(conn, room);
      else for (const group of broker.groupsOf(conn)) void broker.publishTo(group, text);
    });
  });
  void broker.publish('room open').then((reached: number) => reached);
}

/** The same application, handed the Redis broker. */
const withRedis: (broker: RedisBroker, source: ConnectionSource) => void = chatRoom;

describe('the Broker type', () => {
  it('is the shared part of the Redis broker (checked when the specs compile)', async () => {
    assert.deepEqual([sameMembers, sameSources, sharedOptions], [true, true, true]);
    assert.equal(typeof withRedis, 'function');
    const broker = createBroker();
    chatRoom(broker, { on: () => undefined });
    await broker.close();
  });
});
