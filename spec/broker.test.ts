/**
 * The in-process broker (`createBroker()` of the main entry), driven by the real
 * sockjs-client in Node on every transport it has, against a service on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import express from 'express';
import WebSocket from 'ws';
import {
  attachUpgrade,
  createBroker,
  sockjsMiddleware,
  type Broker,
  type Connection,
  type SockjsOptions,
} from '../lib';
import { NODE_TRANSPORTS } from './helpers/cluster';
import { listen, until, type TestServer } from './helpers/server';
import { ClientHarness, type NodeClientTransport } from './helpers/sockjs-client';

/** A broker and the services attached to it, each with its connections by id. */
class Bed {
  readonly broker: Broker = createBroker({ log: () => undefined });
  readonly connections = new Map<string, Connection>();
  private readonly servers: TestServer[] = [];
  private readonly clients: ClientHarness[] = [];

  /**
   * A service attached to the broker; each connection first hears its own id. `onConnection`
   * runs after the broker has seen the connection, as an application's listener would.
   */
  async service(options: SockjsOptions = {}, onConnection?: (conn: Connection) => void): Promise<string> {
    const service = sockjsMiddleware(options);
    this.broker.attach(service);
    service.on('connection', (conn) => {
      this.connections.set(conn.id, conn);
      conn.write(`id:${conn.id}`);
      onConnection?.(conn);
    });
    const app = express();
    app.use('/hub', service);
    const server = await listen(app);
    attachUpgrade(server.server);
    this.servers.push(server);
    return `${server.url}/hub`;
  }

  /** A client on `transport`, once the server side has it: its harness and its Connection. */
  async connect(url: string, transport: NodeClientTransport): Promise<Client> {
    const harness = new ClientHarness(url, { transports: transport });
    this.clients.push(harness);
    await harness.open();
    const hello = String(await harness.nextMessage());
    assert.match(hello, /^id:/);
    const conn = this.connections.get(hello.slice(3));
    assert.ok(conn !== undefined, 'the server knows the connection');
    assert.equal(conn.protocol, transport);
    return { harness, conn };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close().catch(() => undefined)));
    await this.broker.close();
    await Promise.all(this.servers.map((server) => server.close()));
  }
}

interface Client {
  readonly harness: ClientHarness;
  readonly conn: Connection;
}

/** Its next message, as text. */
async function next(client: Client): Promise<string> {
  return String(await client.harness.nextMessage());
}

const HOSTILE_GROUPS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
  'x'.repeat(64 * 1024),
];

for (const transport of NODE_TRANSPORTS) {
  describe(`the in-process broker over ${transport}`, () => {
    let bed: Bed;
    afterEach(() => bed.close());

    async function clients(count: number, options?: SockjsOptions): Promise<Client[]> {
      const url = await bed.service(options);
      const opened: Client[] = [];
      for (let i = 0; i < count; i++) opened.push(await bed.connect(url, transport));
      return opened;
    }

    it('publish() reaches every connection and resolves with how many', async () => {
      bed = new Bed();
      const everyone = await clients(3);
      assert.equal(await bed.broker.publish('to everyone'), 3);
      for (const client of everyone) assert.equal(await next(client), 'to everyone');
    });

    it('publishTo() reaches only the members of the group', async () => {
      bed = new Bed();
      const [member, outsider, otherMember] = await clients(3);
      await bed.broker.join(member.conn, 'room');
      await bed.broker.join(otherMember.conn, 'room');
      assert.equal(await bed.broker.publishTo('room', 'to the room'), 2);
      assert.equal(await bed.broker.publishTo('elsewhere', 'to nobody'), 0);
      assert.equal(await bed.broker.publish('to everyone'), 3);
      assert.equal(await next(member), 'to the room');
      assert.equal(await next(otherMember), 'to the room');
      assert.equal(await next(outsider), 'to everyone', 'the group message never reached the outsider');
    });

    it('groupsOf() lists the groups joined, and leave() removes a member', async () => {
      bed = new Bed();
      const [stays, leaves] = await clients(2);
      for (const client of [stays, leaves]) {
        await bed.broker.join(client.conn, 'a');
        await bed.broker.join(client.conn, 'b');
        await bed.broker.join(client.conn, 'a');
      }
      assert.deepEqual(bed.broker.groupsOf(leaves.conn), ['a', 'b']);
      await bed.broker.leave(leaves.conn, 'a');
      await bed.broker.leave(leaves.conn, 'not a member');
      assert.deepEqual(bed.broker.groupsOf(leaves.conn), ['b']);
      assert.equal(await bed.broker.publishTo('a', 'to a'), 1);
      assert.equal(await bed.broker.publishTo('b', 'to b'), 2);
      assert.deepEqual([await next(stays), await next(stays)], ['to a', 'to b']);
      assert.equal(await next(leaves), 'to b');
    });

    it('keeps the order of publish(), publishTo() and write() for each connection', async () => {
      bed = new Bed();
      const [member, outsider] = await clients(2);
      await bed.broker.join(member.conn, 'room');
      const expectedByMember: string[] = [];
      const expectedByOutsider: string[] = [];
      for (let i = 0; i < 60; i++) {
        if (i % 3 === 0) {
          void bed.broker.publish(`all ${i}`);
          expectedByMember.push(`all ${i}`);
          expectedByOutsider.push(`all ${i}`);
        } else if (i % 3 === 1) {
          void bed.broker.publishTo('room', `room ${i}`);
          expectedByMember.push(`room ${i}`);
        } else {
          member.conn.write(`own ${i}`);
          expectedByMember.push(`own ${i}`);
        }
      }
      const receivedBy = async (client: Client, count: number): Promise<string[]> => {
        const messages: string[] = [];
        for (let i = 0; i < count; i++) messages.push(await next(client));
        return messages;
      };
      assert.deepEqual(await receivedBy(member, expectedByMember.length), expectedByMember);
      assert.deepEqual(await receivedBy(outsider, expectedByOutsider.length), expectedByOutsider);
    });

    it('leaves a connection out once it closes, and takes it out of its groups', async () => {
      bed = new Bed();
      const [closedByServer, closedByClient, stays] = await clients(3);
      for (const client of [closedByServer, closedByClient, stays]) {
        await bed.broker.join(client.conn, 'room');
        await bed.broker.join(client.conn, `own ${client.conn.id}`);
      }
      const closedOnServer = new Promise<void>((resolve) =>
        closedByClient.conn.once('close', () => resolve()),
      );
      await closedByClient.harness.close();
      await closedOnServer;
      closedByServer.conn.close(4000, 'Go away');
      assert.equal(await bed.broker.publish('after the closes'), 1);
      assert.equal(await bed.broker.publishTo('room', 'to the room'), 1);
      assert.equal(await bed.broker.publishTo(`own ${closedByClient.conn.id}`, 'to a closed one'), 0);
      assert.equal(await bed.broker.publishTo(`own ${closedByServer.conn.id}`, 'to a closed one'), 0);

      const close = await closedByServer.harness.closed;
      assert.equal(close.code, 4000);
      assert.deepEqual(closedByServer.harness.received.slice(1), [], 'nothing after the close');
      await until(() => closedByServer.conn.readyState === 3, 10_000, 'the server side to close');
      assert.deepEqual(bed.broker.groupsOf(closedByServer.conn), []);
      assert.deepEqual(bed.broker.groupsOf(closedByClient.conn), []);
      assert.deepEqual(bed.broker.groupsOf(stays.conn), ['room', `own ${stays.conn.id}`]);
      assert.deepEqual([await next(stays), await next(stays)], ['after the closes', 'to the room']);
    });

    it('delivers any text intact, a message alone in its frame or with others', async () => {
      bed = new Bed();
      const [client] = await clients(1);
      const texts = ['"quoted" \\ back', 'ünïcødé ☃ 😀', 'line\u2028separator\u0000nul', 'x'.repeat(70_000)];
      for (const text of texts) {
        assert.equal(await bed.broker.publish(text), 1);
        assert.equal(await next(client), text);
      }
      for (const text of texts) void bed.broker.publish(text);
      for (const text of texts) assert.equal(await next(client), text);
    });

    it('treats hostile group names like any other name', async () => {
      bed = new Bed();
      const [member, outsider] = await clients(2);
      for (const group of HOSTILE_GROUPS) {
        assert.equal(await bed.broker.publishTo(group, 'before anyone joined'), 0);
      }
      for (const group of HOSTILE_GROUPS) await bed.broker.join(member.conn, group);
      assert.deepEqual(bed.broker.groupsOf(member.conn), HOSTILE_GROUPS);
      assert.deepEqual(bed.broker.groupsOf(outsider.conn), []);
      for (const group of HOSTILE_GROUPS) {
        assert.equal(await bed.broker.publishTo(group, `to ${group.slice(0, 20)}`), 1);
        assert.equal(await next(member), `to ${group.slice(0, 20)}`);
      }
      for (const group of HOSTILE_GROUPS) await bed.broker.leave(member.conn, group);
      for (const group of HOSTILE_GROUPS) {
        assert.equal(await bed.broker.publishTo(group, 'after everyone left'), 0);
      }
      assert.equal(await bed.broker.publish('last'), 2);
      assert.equal(await next(member), 'last');
      assert.equal(await next(outsider), 'last');
    });
  });
}

describe('the in-process broker', () => {
  it('keeps one order for everyone when a publish closes a connection whose listener publishes', async () => {
    const bed = new Bed();
    try {
      // One message above this service's maxQueuedBytes closes its connection at once.
      const tinyUrl = await bed.service({ maxQueuedBytes: 1024 }, (conn) => {
        conn.on('close', () => void bed.broker.publish(`left: ${conn.id}`));
      });
      const url = await bed.service();
      const overflowing = await bed.connect(tinyUrl, 'websocket');
      const others = [await bed.connect(url, 'websocket'), await bed.connect(url, 'xhr-streaming')];
      const large = 'L'.repeat(4096);
      assert.equal(await bed.broker.publish(large), 3);
      for (const client of others) {
        assert.equal(await next(client), large);
        assert.equal(await next(client), `left: ${overflowing.conn.id}`);
      }
      // The connection was cut (the client sees no close frame): it took nothing more.
      await overflowing.harness.closed;
      assert.deepEqual(overflowing.harness.received.slice(1), []);
    } finally {
      await bed.close();
    }
  });

  it('publishes to raw websockets (BASE/websocket) as they are, unframed', async () => {
    const bed = new Bed();
    const url = await bed.service();
    const ws = new WebSocket(`${url.replace('http', 'ws')}/websocket`);
    try {
      const received: string[] = [];
      ws.on('message', (data: Buffer) => received.push(data.toString('utf8')));
      await until(() => received.length === 1, 10_000, 'the raw websocket to hear its id');
      assert.equal(await bed.broker.publish('"plain" ☃'), 1);
      void bed.broker.publish('one');
      void bed.broker.publish('two');
      await until(() => received.length === 4, 10_000, 'three messages');
      assert.deepEqual(received.slice(1), ['"plain" ☃', 'one', 'two']);
    } finally {
      ws.terminate();
      await bed.close();
    }
  });

  it('resolves publish() with 0 when no connection is attached', async () => {
    const broker = createBroker();
    assert.equal(await broker.publish('to nobody'), 0);
    assert.equal(await broker.publishTo('room', 'to nobody'), 0);
    await broker.close();
  });

  it('has an id naming its host and process', async () => {
    const broker = createBroker();
    assert.match(broker.id, new RegExp(`^[A-Za-z0-9._-]{1,64}/${process.pid}/[0-9a-f]{8}$`));
    assert.notEqual(createBroker().id, broker.id);
    await broker.close();
  });

  it('refuses bad options, messages and group names', async () => {
    assert.throws(() => createBroker(null as never), TypeError);
    assert.throws(() => createBroker({ log: 'console' as never }), /option log must be a function/);
    const broker = createBroker();
    assert.throws(() => broker.attach({} as never), TypeError);
    await assert.rejects(broker.publish(42 as never), TypeError);
    await assert.rejects(broker.publishTo('', 'message'), /group name must be a non-empty string/);
    await assert.rejects(broker.publishTo(7 as never, 'message'), TypeError);
    await broker.close();
  });

  it('refuses publish(), join() and attach() once closed; close() may be called again', async () => {
    const bed = new Bed();
    const url = await bed.service();
    const client = await bed.connect(url, 'websocket');
    await bed.broker.join(client.conn, 'room');
    await bed.broker.close();
    await bed.broker.close();
    assert.deepEqual(bed.broker.groupsOf(client.conn), []);
    await assert.rejects(bed.broker.publish('late'), /the broker is closed/);
    await assert.rejects(bed.broker.publishTo('room', 'late'), /the broker is closed/);
    await assert.rejects(bed.broker.join(client.conn, 'room'), /the broker is closed/);
    assert.throws(() => bed.broker.attach(sockjsMiddleware()), /the broker is closed/);
    await bed.close();
  });
});
