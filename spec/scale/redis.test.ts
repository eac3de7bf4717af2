/**
 * sockjs-express/redis against a real Redis on free loopback ports, in every setup of
 * spec/helpers/redis-cluster.ts (node-redis and ioredis, one redis-server and a
 * three-shard Redis Cluster): brokers in two "processes" (each with its own Redis
 * connections, service and HTTP server), forwarding between two demo processes, and the
 * demo's chat room across them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { attachUpgrade, sockjsMiddleware, type Connection } from '../../lib';
import { createBroker, type Broker } from '../../lib/redis';
import type { DemoRedis } from '../../demo-app/cluster/redis';
import { startDemoInstance, type DemoInstance } from '../../scripts/cluster/processes';
import { ChatClient, DISCONNECT_MS, HEARTBEAT_MS, closeAll, openClients } from '../helpers/cluster';
import { POST, RawConnection } from '../helpers/http';
import { listen, until, type TestServer } from '../helpers/server';
import { REDIS_SETUPS, RedisBed } from '../helpers/redis-cluster';
import { ClientHarness } from '../helpers/sockjs-client';

/** One process's worth: a Redis client, a broker, a service that obeys `join:`/`leave:` messages. */
interface Side {
  readonly redis: DemoRedis;
  readonly broker: Broker;
  readonly server: TestServer;
  readonly url: string;
  readonly connections: Connection[];
}

async function startSide(bed: RedisBed, channel: string): Promise<Side> {
  const redis = await bed.connect();
  const broker = await createBroker({ redis: redis.client, channel });
  const service = sockjsMiddleware();
  const connections: Connection[] = [];
  service.on('connection', (conn) => {
    connections.push(conn);
    conn.on('data', (message) => {
      const [command, group] = message.split(':');
      if (command === 'join') void broker.join(conn, group).then(() => conn.write(`joined:${group}`));
      if (command === 'leave') void broker.leave(conn, group).then(() => conn.write(`left:${group}`));
    });
  });
  broker.attach(service);
  const app = express();
  app.use('/hub', service);
  const server = await listen(app);
  attachUpgrade(server.server);
  return { redis, broker, server, url: `${server.url}/hub`, connections };
}

async function stopSide(side: Side | undefined): Promise<void> {
  if (side === undefined) return;
  await side.broker.close();
  await side.server.close();
  await side.redis.close();
}

async function connect(side: Side): Promise<ClientHarness> {
  const client = new ClientHarness(side.url, { transports: 'websocket' });
  await client.open();
  return client;
}

/** Each client joins `group` (through the service's `join:` message), one after the other. */
async function joinAll(clients: readonly ClientHarness[], group: string): Promise<void> {
  for (const client of clients) {
    client.client.send(`join:${group}`);
    assert.equal(await client.nextMessage(), `joined:${group}`);
  }
}

/** The messages a harness has received so far, as strings. */
function texts(client: ClientHarness): string[] {
  return client.received.map(String);
}

for (const setup of REDIS_SETUPS)
  describe(`sockjs-express/redis, ${setup.name}`, { skip: setup.skip }, () => {
    let bed: RedisBed;

    before(async () => {
      bed = await RedisBed.start(setup);
    });

    after(async () => {
      await bed?.stop();
    });

    describe('brokers in two processes', () => {
      let a: Side;
      let b: Side;
      const harnesses: ClientHarness[] = [];

      before(async () => {
        a = await startSide(bed, 'spec');
        b = await startSide(bed, 'spec');
      });

      after(async () => {
        await Promise.all(harnesses.map((client) => client.close().catch(() => undefined)));
        await stopSide(a);
        await stopSide(b);
      });

      async function open(side: Side): Promise<ClientHarness> {
        const client = await connect(side);
        harnesses.push(client);
        return client;
      }

      it('publish() reaches every tracked connection of every process', async () => {
        const [onA, onB, alsoB] = [await open(a), await open(b), await open(b)];
        const reached = await a.broker.publish('to everyone');
        assert.equal(reached, 2, 'two processes subscribed');
        for (const client of [onA, onB, alsoB]) assert.equal(await client.nextMessage(), 'to everyone');
      });

      it('publishTo() reaches the members of a group on every process, and no one else', async () => {
        const [member1, outsider, member2] = [await open(a), await open(a), await open(b)];
        await joinAll([member1, member2], 'room');
        assert.equal(await b.broker.publishTo('room', 'for the room'), 2);
        await a.broker.publish('for everyone');
        assert.equal(await member1.nextMessage(), 'for the room');
        assert.equal(await member2.nextMessage(), 'for the room');
        assert.equal(await outsider.nextMessage(), 'for everyone', 'the outsider skipped the room message');
        assert.deepEqual(a.broker.groupsOf(a.connections[a.connections.length - 2]), ['room']);
      });

      it('stops delivering to a group after leave() or close, and unsubscribes when it is empty', async () => {
        const [stays, leaves] = [await open(a), await open(b)];
        await joinAll([stays, leaves], 'lobby');
        const lobby = bed.names('spec').group('lobby');
        assert.equal(await bed.subscribers(lobby), 2);
        leaves.client.send('leave:lobby');
        assert.equal(await leaves.nextMessage(), 'left:lobby');
        assert.equal(await bed.subscribers(lobby), 1, "b's process left the channel");
        await a.broker.publishTo('lobby', 'still here?');
        assert.equal(await stays.nextMessage(), 'still here?');
        await b.broker.publish('marker');
        assert.equal(
          await leaves.nextMessage(),
          'marker',
          'the lobby message did not reach the one who left',
        );

        await stays.close();
        await until(
          () => a.broker.groupsOf(a.connections[a.connections.length - 1]).length === 0,
          2000,
          'leaving',
        );
        for (let i = 0; i < 100 && (await bed.subscribers(lobby)) !== 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(await bed.subscribers(lobby), 0, 'nobody listens to the empty group');
      });

      it('delivers the messages of one publisher in order', async () => {
        const listener = await open(b);
        const sent = Array.from({ length: 300 }, (_, i) => `n${i}`);
        await Promise.all(sent.map((message) => a.broker.publish(message)));
        await until(() => listener.received.length >= sent.length, 5000, '300 messages');
        assert.deepEqual(texts(listener), sent);
      });

      it(
        setup.cluster
          ? "spreads a broker's channels over the shards, with sharded pub/sub only"
          : 'uses classic pub/sub on one server',
        async () => {
          const client = await open(a);
          const groups = Array.from({ length: 12 }, (_, i) => `spread${i}`);
          for (const group of groups) await joinAll([client], group);
          const names = bed.names('spec');
          const expected = [
            names.all,
            names.node(a.broker.id),
            names.node(b.broker.id),
            ...groups.map(names.group),
          ];
          const listed = async (command: string): Promise<string[][]> =>
            (await bed.onEachServer(['PUBSUB', command, setup.cluster ? '{spec:*' : 'spec:*'])) as string[][];
          const [sharded, classic] = [await listed('SHARDCHANNELS'), await listed('CHANNELS')];
          const used = setup.cluster ? sharded : classic;
          for (const channel of expected)
            assert.ok(used.flat().includes(channel), `${channel} is subscribed`);
          assert.deepEqual((setup.cluster ? classic : sharded).flat(), [], 'no channel of the other kind');
          if (setup.cluster) {
            const shards = sharded.filter((channels) => channels.length > 0).length;
            assert.ok(shards > 1, `the channels are on ${shards} of the 3 shards`);
          }
        },
      );

      if (setup.cluster) {
        it("keeps a group's messages coming when the group's slot moves to another shard", async () => {
          const [member, other] = [await open(a), await open(b)];
          await joinAll([member, other], 'moving');
          const channel = bed.names('spec').group('moving');
          await bed.moveSlotOf(channel);
          // Redis ends the subscriptions of a slot that moves; the clients subscribe again at
          // its new master. Messages published meanwhile may be lost (at most once).
          const deadline = Date.now() + 5000;
          while ((await b.broker.publishTo('moving', 'probe')) !== 2) {
            assert.ok(Date.now() < deadline, 'both processes subscribed again at the new master within 5 s');
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          await a.broker.publishTo('moving', 'after the move');
          for (const client of [member, other]) {
            await until(() => texts(client).includes('after the move'), 5000, 'the message after the move');
          }
          assert.equal(await bed.subscribers(channel), 2);
        });
      }

      it('refuses what it cannot do', async () => {
        await assert.rejects(createBroker({ redis: {} as never }), TypeError);
        await assert.rejects(createBroker({ redis: a.redis.client, channel: '' }), TypeError);
        await assert.rejects(a.broker.publishTo('', 'x'), TypeError);
        assert.throws(() => a.broker.forward(express.Router() as never), TypeError);
        const closing = await createBroker({ redis: a.redis.client, channel: 'spec-closed' });
        await closing.close();
        await assert.rejects(closing.publish('too late'), /closed/);
      });
    });

    describe('forwarding between two demo processes, with a secret', () => {
      const instances: DemoInstance[] = [];
      const chats: ChatClient[] = [];

      before(async () => {
        for (const name of ['node1', 'node2']) {
          instances.push(
            await startDemoInstance({
              instance: name,
              ...bed.demoOptions,
              redisSecret: 'the secret of the two demo processes',
              forward: true,
              heartbeatDelay: HEARTBEAT_MS,
              disconnectDelay: DISCONNECT_MS,
            }),
          );
        }
      });

      after(async () => {
        await closeAll(chats);
        await Promise.all(instances.map((instance) => instance.child.kill()));
      });

      function url(instance: DemoInstance, server: string, session: string, transport: string): string {
        return `${instance.url}/echo/${server}/${session}/${transport}`;
      }

      it('serves sends and polls of a session at the process that does not hold it', async () => {
        const [owner, other] = instances;
        const session = `fwd${Date.now()}`;
        assert.equal((await POST(url(owner, '000', session, 'xhr'))).body, 'o\n');
        assert.equal(
          (await POST(url(other, '001', session, 'xhr_send'), { body: '["one","two"]' })).status,
          204,
        );
        assert.equal((await POST(url(other, '002', session, 'xhr'))).body, 'a["one","two"]\n');
        assert.equal((await POST(url(owner, '003', session, 'xhr_send'), { body: '["three"]' })).status, 204);
        assert.equal((await POST(url(other, '004', session, 'xhr'))).body, 'a["three"]\n');

        // A relayed stream: the prelude at once, then frames as the owner writes them.
        const stream = await RawConnection.connect(url(other, '005', session, 'xhr_streaming'));
        const head = await stream.request('POST', `/echo/005/${session}/xhr_streaming`);
        assert.equal(head.status, 200);
        const prelude = (await stream.readChunkBytes()).toString();
        assert.equal(prelude, 'h'.repeat(2048) + '\n');
        assert.equal((await POST(url(owner, '006', session, 'xhr_send'), { body: '["four"]' })).status, 204);
        assert.equal((await stream.readChunkBytes()).toString(), 'a["four"]\n');
        stream.close();
      });

      it('answers 404 to a send for a session no process holds', async () => {
        const response = await POST(url(instances[1], '000', `nobody${Date.now()}`, 'xhr_send'), {
          body: '["x"]',
        });
        assert.equal(response.status, 404);
      });

      it('closes the session at its owner when a relayed request is cut, as it would there', async () => {
        const [owner, other] = instances;
        const session = `cut${Date.now()}`;
        assert.equal((await POST(url(owner, '000', session, 'xhr'))).body, 'o\n');
        const stream = await RawConnection.connect(url(other, '000', session, 'xhr_streaming'));
        await stream.request('POST', `/echo/000/${session}/xhr_streaming`);
        await stream.readChunkBytes();
        stream.close();
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(
          (await POST(url(owner, '000', session, 'xhr'))).body,
          'c[1002,"Connection interrupted"]\n',
        );
      });

      it('names the owning process in Redis while the session lives, and forgets it after', async () => {
        const session = `key${Date.now()}`;
        const [owner] = instances;
        assert.equal((await POST(url(owner, '000', session, 'xhr'))).body, 'o\n');
        const key = bed.names('demo').sessionKey('/echo', session);
        assert.match(String(await bed.get(key)), new RegExp(`/${owner.child.process.pid}/`));
        // No poll comes back: the session expires after the disconnect delay.
        for (let i = 0; i < 100 && (await bed.get(key)) !== null; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.equal(await bed.get(key), null);
      });

      it('shares the chat room of the demo between the processes', async () => {
        const [first, second] = await Promise.all([
          openClients(instances[0].url, [{ transport: 'websocket', label: 'on node1' }]),
          openClients(instances[1].url, [{ transport: 'xhr-polling', label: 'on node2' }]),
        ]);
        chats.push(...first, ...second);
        const [one, two] = [first[0], second[0]];
        assert.equal(one.server, 'node1');
        assert.equal(two.server, 'node2');
        const said = await one.say('hi from node1', 3);
        await two.until(
          () => said.every((text) => two.messages().some((event) => event.text === text)),
          'node2 hears',
        );
        const answer = await two.say('hi from node2', 3);
        await one.until(
          () => answer.every((text) => one.messages().some((event) => event.text === text)),
          'node1 hears',
        );
        // Members of both processes are in the room.
        const later = (await openClients(instances[1].url, [{ transport: 'websocket', label: 'late' }]))[0];
        chats.push(later);
        const names = later.welcome?.members.map((member) => member.name) ?? [];
        assert.ok(names.includes(one.me.name) && names.includes(two.me.name), `members: ${names.join(', ')}`);
      });
    });
  });
