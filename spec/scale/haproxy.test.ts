/**
 * The sticky HAProxy configurations of docs/deployment.md (by URL, by JSESSIONID), run by
 * Debian's haproxy in front of three demo processes (`npm start`), with the real
 * sockjs-client in Node on every transport it has there. Without Redis each process has its
 * own chat room, so a message that reached the wrong process would show up in the wrong room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOCUMENTED_HEARTBEAT_MS, documentedConfig, haproxyConfig } from '../../scripts/cluster/configs';
import {
  freePort,
  ScratchDir,
  startHaproxy,
  type BalancerProcess,
  type DemoInstance,
} from '../../scripts/cluster/processes';
import {
  ChatClient,
  HEARTBEAT_MS,
  NODE_TRANSPORTS,
  assertOwnMessages,
  assertOwnOriginOnly,
  closeAll,
  everyTransport,
  assertShortRoundTrips,
  startDemoInstances,
  openClients,
  requireBinary,
} from '../helpers/cluster';
import { POST } from '../helpers/http';
import { delay } from '../helpers/server';

const haproxy = requireBinary('haproxy', 'haproxy');

describe('HAProxy, sticky (docs/deployment.md)', { skip: haproxy.skip }, () => {
  let dir: ScratchDir;
  const instances: DemoInstance[] = [];
  let balancer: BalancerProcess | null = null;
  let byCookie: BalancerProcess | null = null;
  const clients: ChatClient[] = [];

  before(async () => {
    dir = new ScratchDir('sockjs-haproxy-');
    await startDemoInstances(instances, 3, { jsessionid: true });
    const upstreams = instances.map((instance) => ({ name: instance.name, port: instance.port }));
    const timeoutScale = HEARTBEAT_MS / DOCUMENTED_HEARTBEAT_MS;
    const port = await freePort();
    const config = haproxyConfig(documentedConfig('haproxy-sticky'), { port, upstreams, timeoutScale });
    balancer = await startHaproxy(haproxy.path as string, config, port, dir);
    const cookiePort = await freePort();
    const cookieConfig = haproxyConfig(documentedConfig('haproxy-jsessionid'), {
      port: cookiePort,
      upstreams,
      timeoutScale,
    });
    // (haproxy has read the first configuration: its file may be overwritten.)
    byCookie = await startHaproxy(haproxy.path as string, cookieConfig, cookiePort, dir);
  });

  after(async () => {
    await closeAll(clients);
    await balancer?.child.kill();
    await byCookie?.child.kill();
    await Promise.all(instances.map((instance) => instance.child.kill()));
    dir?.remove();
  });

  it('by URL: keeps each session on one process, on every transport, and loses no message', async () => {
    const opened = await openClients(balancer!.url, everyTransport(3));
    clients.push(...opened);
    const said = await Promise.all(opened.map((client) => client.say('hello', 20)));
    opened.forEach((client, i) => {
      assertOwnMessages(client, said[i]);
      for (const event of client.messages()) {
        assert.equal(event.from.server, client.server, `${client.label}: only its own process's room`);
      }
    });
    const servers = new Set(opened.map((client) => client.server));
    assert.ok(servers.size >= 2, `sessions spread over processes: ${[...servers].join(', ')}`);
    await closeAll(opened);
  });

  it('by URL: sends every streamed frame at once (option http-no-delay)', async () => {
    const opened = await openClients(
      balancer!.url,
      NODE_TRANSPORTS.map((transport) => ({ transport, label: transport })),
    );
    clients.push(...opened);
    await assertShortRoundTrips(opened);
    await closeAll(opened);
  });

  it('by URL: keeps idle connections open past its timeouts, with heartbeats', async () => {
    // The timeouts are scaled to the 500 ms heartbeat: client and server 1.2 s here.
    const opened = await openClients(
      balancer!.url,
      NODE_TRANSPORTS.map((transport) => ({ transport, label: transport })),
    );
    clients.push(...opened);
    await delay(3000);
    for (const client of opened) {
      assert.equal(client.closeEvent, null, `${client.label} is still open`);
      assertOwnMessages(client, await client.say('after a pause', 2));
    }
    await closeAll(opened);
  });

  it("serves pages of its own origin through either configuration, and refuses other pages' origins", async () => {
    await assertOwnOriginOnly(balancer!.url);
    await assertOwnOriginOnly(byCookie!.url);
  });

  it('by JSESSIONID: routes every request of a session by the cookie', async () => {
    const base = `${byCookie!.url}/echo`;
    const session = `cookie${Date.now()}`;
    const open = await POST(`${base}/000/${session}/xhr`);
    assert.equal(open.body, 'o\n');
    const cookie = /JSESSIONID=(node\d)~dummy/.exec(open.headers['set-cookie'] ?? '');
    assert.ok(cookie !== null, `HAProxy prefixed the cookie: ${open.headers['set-cookie']}`);
    const headers = { Cookie: `JSESSIONID=${cookie[1]}~dummy` };
    // A different <server> segment every time: only the cookie keeps them together.
    for (let i = 1; i <= 12; i++) {
      const sent = await POST(`${base}/${100 + i}/${session}/xhr_send`, { headers, body: `["m${i}"]` });
      assert.equal(sent.status, 204, `send ${i} reached the session's process`);
    }
    const poll = await POST(`${base}/999/${session}/xhr`, { headers });
    assert.equal(poll.body, `a[${Array.from({ length: 12 }, (_, i) => `"m${i + 1}"`).join(',')}]\n`);

    // Without the cookie the requests are balanced, and some miss the session.
    const other = `nocookie${Date.now()}`;
    assert.equal((await POST(`${base}/000/${other}/xhr`)).body, 'o\n');
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++) {
      statuses.push((await POST(`${base}/${100 + i}/${other}/xhr_send`, { body: '["x"]' })).status);
    }
    assert.ok(statuses.includes(404), `some sends went elsewhere without the cookie: ${statuses.join(' ')}`);
  });

  it('by URL: closes the clients of a killed process; they reconnect elsewhere, and the others lose nothing', async () => {
    const opened = await openClients(balancer!.url, everyTransport(3));
    clients.push(...opened);
    const victim = opened[0].server;
    const doomed = opened.filter((client) => client.server === victim);
    const spared = opened.filter((client) => client.server !== victim);
    assert.ok(spared.length > 0, 'some sessions are on other processes');

    await instances.find((instance) => instance.name === victim)!.child.kill();
    // Everyone keeps talking: the spared lose nothing, the doomed hear `close`.
    const talk = spared.map((client) => client.say('after the kill', 10));
    for (const client of doomed) client.send('anyone there?');
    const said = await Promise.all(talk);
    spared.forEach((client, i) => {
      assert.equal(client.closeEvent, null, `${client.label} on ${client.server} is still open`);
      assertOwnMessages(client, said[i]);
    });
    const closes = await Promise.all(
      doomed.map((client) =>
        client.until(() => client.closeEvent !== null, `${client.label} to close`, 8000),
      ),
    );
    assert.equal(closes.length, doomed.length);

    // A new connection lands on a live process and works.
    const again = await openClients(
      balancer!.url,
      doomed.map((client) => ({ transport: client.transport, label: `${client.label} again` })),
    );
    clients.push(...again);
    for (const client of again) {
      assert.notEqual(client.server, victim, `${client.label} is on a live process`);
      assertOwnMessages(client, await client.say('back', 5));
    }
    await closeAll([...opened, ...again]);
  });
});
