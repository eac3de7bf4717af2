import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { sockjsMiddleware } from '../lib/index';
import type { Connection } from '../lib/session/connection';
import { heldSessionCount } from './helpers/internals';
import { delay, listen, until, type TestServer } from './helpers/server';
import { GET, POST, stream } from './helpers/http';

const HEARTBEAT = 150;
const DISCONNECT = 250;

describe('session life cycle', () => {
  let server: TestServer;
  let base: string;
  const connections: Connection[] = [];
  const closes = new Map<Connection, number>();
  const received = new Map<Connection, string[]>();
  const service = sockjsMiddleware({ heartbeatDelay: HEARTBEAT, disconnectDelay: DISCONNECT });
  service.on('connection', (conn) => {
    connections.push(conn);
    closes.set(conn, 0);
    received.set(conn, []);
    conn.on('data', (message: string) => received.get(conn)?.push(message));
    conn.on('close', () => closes.set(conn, (closes.get(conn) ?? 0) + 1));
  });

  before(async () => {
    const app = express();
    app.use('/s', service);
    server = await listen(app);
    base = server.url + '/s';
  });
  after(() => server.close());

  async function openPolling(): Promise<{ path: string; conn: Connection }> {
    const path = `${base}/000/${randomUUID()}`;
    const count = connections.length;
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    await until(() => connections.length > count, 1000, 'the connection event');
    return { path, conn: connections[connections.length - 1] };
  }

  it('emits connection once per session, after the open frame', async () => {
    const { path, conn } = await openPolling();
    assert.equal(conn.readyState, 1);
    await POST(`${path}/xhr_send`, { body: '["ping"]' });
    assert.deepEqual(received.get(conn), ['ping']);
  });

  it('queues messages written while no poll is attached, in order, in one frame', async () => {
    const { path, conn } = await openPolling();
    assert.equal(conn.write('one'), true);
    conn.write('two');
    conn.write('three');
    assert.equal((await POST(`${path}/xhr`)).body, 'a["one","two","three"]\n');
  });

  it('frames a message written to several streams in one tick exactly as for one, queued ones too', async () => {
    const streams: Awaited<ReturnType<typeof stream>>[] = [];
    const conns: Connection[] = [];
    const next = async (r: (typeof streams)[number]): Promise<string | null> => {
      let chunk = await r.read();
      while (chunk === 'h\n') chunk = await r.read();
      return chunk;
    };
    try {
      for (let i = 0; i < 3; i++) {
        const count = connections.length;
        const r = await stream('POST', `${base}/000/${randomUUID()}/xhr_streaming`);
        streams.push(r);
        await r.read();
        assert.equal(await r.read(), 'o\n');
        await until(() => connections.length > count, 1000, 'the connection event');
        conns.push(connections[connections.length - 1]);
      }
      for (const text of ['plain', 'quo"te', 'line\u2028end', 'été 😀']) {
        for (const conn of conns) conn.write(text);
        conns[2].write('second');
        const alone = (await next(streams[0])) ?? '';
        assert.deepEqual(JSON.parse(alone.slice(1)), [text]);
        assert.equal(await next(streams[1]), alone);
        assert.equal(await next(streams[2]), alone.slice(0, -2) + ',"second"]\n');
      }
    } finally {
      for (const r of streams) r.close();
    }
  });

  it('answers a second concurrent receiver with 2010 and keeps the first working', async () => {
    const path = `${base}/000/${randomUUID()}`;
    const first = await stream('POST', `${path}/xhr_streaming`);
    try {
      await first.read();
      assert.equal(await first.read(), 'o\n');
      const second = await POST(`${path}/xhr_streaming`);
      assert.equal(second.body, 'h'.repeat(2048) + '\nc[2010,"Another connection still open"]\n');
      const conn = connections[connections.length - 1];
      conn.write('still here');
      assert.equal(await first.read(), 'a["still here"]\n');
    } finally {
      first.close();
    }
  });

  it('sends heartbeats on an idle receiver', async () => {
    const path = `${base}/000/${randomUUID()}`;
    const r = await stream('POST', `${path}/xhr_streaming`);
    try {
      await r.read();
      assert.equal(await r.read(), 'o\n');
      assert.equal(await r.read(), 'h\n');
      assert.equal(await r.read(), 'h\n');
    } finally {
      r.close();
    }
  });

  it('ends a poll with a heartbeat when nothing comes', async () => {
    const { path } = await openPolling();
    assert.equal((await POST(`${path}/xhr`)).body, 'h\n');
  });

  it('expires after disconnectDelay without a receiver and emits close once', async () => {
    const { path, conn } = await openPolling();
    await delay(DISCONNECT + 150);
    assert.equal(closes.get(conn), 1);
    assert.equal(conn.readyState, 3);
    assert.equal(conn.write('too late'), false);
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n', 'the same id starts a new session');
    await delay(DISCONNECT);
    assert.equal(closes.get(conn), 1);
  });

  it('keeps a session alive while polls keep coming', async () => {
    const { path, conn } = await openPolling();
    for (let i = 0; i < 4; i++) {
      await delay(DISCONNECT / 2);
      conn.write(String(i));
      assert.equal((await POST(`${path}/xhr`)).body, `a["${i}"]\n`);
    }
    assert.equal(closes.get(conn), 0);
  });

  it('on application close: the receiver gets the frame, later ones too (not 2010), then it is forgotten', async () => {
    const path = `${base}/000/${randomUUID()}`;
    const r = await stream('POST', `${path}/xhr_streaming`);
    await r.read();
    await r.read();
    const conn = connections[connections.length - 1];
    conn.write('last words');
    conn.close(3001, 'Done here');
    assert.equal(await r.read(), 'a["last words"]\n');
    assert.equal(await r.read(), 'c[3001,"Done here"]\n');
    assert.equal(await r.read(), null);
    assert.equal(closes.get(conn), 1);
    assert.equal((await POST(`${path}/xhr`)).body, 'c[3001,"Done here"]\n');
    assert.equal((await POST(`${path}/xhr`)).body, 'c[3001,"Done here"]\n');
    await delay(DISCONNECT + 100);
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    assert.equal(closes.get(conn), 1);
  });

  it('delivers a close written while no receiver is attached on the next poll', async () => {
    const { path, conn } = await openPolling();
    conn.write('bye');
    conn.end();
    assert.equal(conn.write('after end'), false);
    assert.equal((await POST(`${path}/xhr`)).body, 'a["bye"]\n');
    assert.equal((await POST(`${path}/xhr`)).body, 'c[1000,"Normal closure"]\n');
    await until(() => closes.get(conn) === 1, 500, 'close');
  });

  it('closes at once when a receiving request is cut, and says so to the next one', async () => {
    const path = `${base}/000/${randomUUID()}`;
    const r = await stream('POST', `${path}/xhr_streaming`);
    await r.read();
    await r.read();
    const conn = connections[connections.length - 1];
    r.close();
    await until(() => closes.get(conn) === 1, 1000, 'close after abort');
    assert.equal((await POST(`${path}/xhr`)).body, 'c[1002,"Connection interrupted"]\n');
  });

  it('ends a streaming response past responseLimit and carries on in the next one', async () => {
    const app = express();
    const limited = sockjsMiddleware({ responseLimit: 100 });
    limited.on('connection', (conn) => conn.on('data', (m: string) => conn.write(m)));
    app.use('/l', limited);
    const small = await listen(app);
    try {
      const path = `${small.url}/l/000/${randomUUID()}`;
      const r = await stream('POST', `${path}/xhr_streaming`);
      await r.read();
      assert.equal(await r.read(), 'o\n');
      await POST(`${path}/xhr_send`, { body: JSON.stringify(['x'.repeat(150)]) });
      assert.equal(await r.read(), `a["${'x'.repeat(150)}"]\n`);
      assert.equal(await r.read(), null, 'the response ends after the limit');
      await POST(`${path}/xhr_send`, { body: '["next"]' });
      assert.equal((await POST(`${path}/xhr`)).body, 'a["next"]\n');
    } finally {
      await small.close();
    }
  });

  it('expires on time when the disconnect deadline comes before the heartbeat it replaced', async () => {
    const app = express();
    const quick = sockjsMiddleware({ heartbeatDelay: 2000, disconnectDelay: 100 });
    let conn: Connection | null = null;
    let closedAt = 0;
    quick.on('connection', (c) => {
      conn = c;
      c.on('close', () => (closedAt = Date.now()));
    });
    app.use('/q', quick);
    const local = await listen(app);
    try {
      const path = `${local.url}/q/000/${randomUUID()}`;
      assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
      // A poll waits with its heartbeat 2 s away; answering it leaves 100 ms to the next.
      const poll = POST(`${path}/xhr`);
      await delay(50);
      (conn as Connection | null)?.write('answer');
      assert.equal((await poll).body, 'a["answer"]\n');
      // Well before the 2 s the heartbeat was filed for.
      await until(() => closedAt !== 0, 1000, 'the session to expire');
      assert.equal(heldSessionCount(quick), 0);
    } finally {
      await local.close();
    }
  });

  it('expires sessions due together, even when one close makes the application close another', async () => {
    const app = express();
    const quick = sockjsMiddleware({ heartbeatDelay: 2000, disconnectDelay: 100 });
    const open: Connection[] = [];
    const closed: Connection[] = [];
    quick.on('connection', (c) => {
      open.push(c);
      c.on('close', () => {
        closed.push(c);
        // The application closes every other connection when one leaves.
        for (const other of open) if (other !== c) other.close(3000, 'room closed');
      });
    });
    app.use('/q', quick);
    const local = await listen(app);
    try {
      const paths = Array.from({ length: 5 }, () => `${local.url}/q/000/${randomUUID()}`);
      await Promise.all(paths.map(async (path) => assert.equal((await POST(`${path}/xhr`)).body, 'o\n')));
      await until(() => closed.length === 5, 2000, 'every session to close');
      await until(() => heldSessionCount(quick) === 0, 1000, 'every session to be forgotten');
    } finally {
      await local.close();
    }
  });

  it('forgets sessions: the store is empty once every session expired', async () => {
    await delay(DISCONNECT + 200);
    assert.equal(heldSessionCount(service), 0);
  });
});

describe('send requests', () => {
  let server: TestServer;
  let base: string;
  const messages: string[] = [];
  before(async () => {
    const service = sockjsMiddleware({ maxBodySize: 1024, disconnectDelay: 500 });
    service.on('connection', (conn) => conn.on('data', (m: string) => messages.push(m)));
    const app = express();
    app.use('/s', service);
    server = await listen(app);
    base = server.url + '/s';
  });
  after(() => server.close());

  it('never damage the session: 404, 500s, 413, then a good send works', async () => {
    const path = `${base}/000/${randomUUID()}`;
    assert.equal((await POST(`${base}/000/${randomUUID()}/xhr_send`, { body: '["x"]' })).status, 404);
    await POST(`${path}/xhr`);
    const empty = await POST(`${path}/xhr_send`);
    assert.deepEqual([empty.status, empty.body], [500, 'Payload expected.']);
    for (const body of ['["a', '{"a":1}', '[1,2]', '["ok", null]', '"just a string"']) {
      const r = await POST(`${path}/xhr_send`, { body });
      assert.deepEqual([r.status, r.body], [500, 'Broken JSON encoding.'], body);
    }
    const big = await POST(`${path}/xhr_send`, { body: JSON.stringify(['x'.repeat(2000)]) });
    assert.equal(big.status, 413);
    const jsonpBig = await POST(`${path}/jsonp_send`, {
      body: 'd=' + 'x'.repeat(2000),
      headers: fromPage(path),
    });
    assert.equal(jsonpBig.status, 413);
    assert.deepEqual(messages, []);
    assert.equal((await POST(`${path}/xhr_send`, { body: '["fine"]' })).status, 204);
    assert.deepEqual(messages, ['fine']);
  });

  it('take the raw JSON array or a d= form on jsonp_send', async () => {
    const path = `${base}/000/${randomUUID()}`;
    await GET(`${path}/jsonp?c=x`, { headers: fromPage(path) });
    messages.length = 0;
    const form = await POST(`${path}/jsonp_send`, {
      body: 'd=%5B%22abc%22%5D',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromPage(path) },
    });
    assert.equal(form.body, 'ok');
    const raw = await POST(`${path}/jsonp_send`, {
      body: '["%61bc"]',
      headers: { 'Content-Type': 'text/plain', ...fromPage(path) },
    });
    assert.equal(raw.body, 'ok');
    const noD = await POST(`${path}/jsonp_send`, {
      body: 'e=1',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...fromPage(path) },
    });
    assert.deepEqual([noD.status, noD.body], [500, 'Payload expected.']);
    assert.deepEqual(messages, ['abc', '%61bc']);
  });
});

/** What a browser sends with a script or form request from a page of the service's origin. */
function fromPage(url: string): Record<string, string> {
  return { Referer: `${new URL(url).origin}/chat.html` };
}
