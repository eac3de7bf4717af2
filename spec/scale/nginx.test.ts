/**
 * The nginx configuration of docs/deployment.md, run by a private Debian nginx (prefix,
 * pid, logs and temporary files in a scratch directory) in front of two demo processes,
 * with the real sockjs-client in Node on every transport it has there.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOCUMENTED_HEARTBEAT_MS, documentedConfig, nginxConfig } from '../../scripts/cluster/configs';
import {
  freePort,
  ScratchDir,
  startDemoInstance,
  startNginx,
  type BalancerProcess,
  type DemoInstance,
} from '../../scripts/cluster/processes';
import {
  ChatClient,
  DISCONNECT_MS,
  HEARTBEAT_MS,
  NODE_TRANSPORTS,
  assertOwnMessages,
  assertOwnOriginOnly,
  closeAll,
  everyTransport,
  assertShortRoundTrips,
  openClients,
  requireBinary,
} from '../helpers/cluster';
import { delay } from '../helpers/server';

const nginx = requireBinary('nginx', 'nginx');

describe('nginx, sticky by URL (docs/deployment.md)', { skip: nginx.skip }, () => {
  let dir: ScratchDir;
  const instances: DemoInstance[] = [];
  let balancer: BalancerProcess | null = null;
  const clients: ChatClient[] = [];

  before(async () => {
    dir = new ScratchDir('sockjs-nginx-');
    for (const name of ['node1', 'node2']) {
      instances.push(
        await startDemoInstance({
          instance: name,
          heartbeatDelay: HEARTBEAT_MS,
          disconnectDelay: DISCONNECT_MS,
        }),
      );
    }
    const port = await freePort();
    const config = nginxConfig(documentedConfig('nginx'), {
      port,
      dir: dir.path,
      upstreams: instances.map((instance) => ({ name: instance.name, port: instance.port })),
      timeoutScale: HEARTBEAT_MS / DOCUMENTED_HEARTBEAT_MS,
    });
    balancer = await startNginx(nginx.path as string, config, port, dir);
  });

  after(async () => {
    await closeAll(clients);
    await balancer?.child.kill();
    await Promise.all(instances.map((instance) => instance.child.kill()));
    dir?.remove();
  });

  it("serves pages of its own origin through nginx, and refuses other pages' origins", async () => {
    await assertOwnOriginOnly(balancer!.url);
  });

  it('keeps each session on one process, on every transport, and loses no message', async () => {
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
    assert.equal(servers.size, 2, `sessions spread over both processes: ${[...servers].join(', ')}`);
    await closeAll(opened);
  });

  it('sends every streamed frame at once, and keeps idle connections open past its timeouts', async () => {
    const opened = await openClients(
      balancer!.url,
      NODE_TRANSPORTS.map((transport) => ({ transport, label: transport })),
    );
    clients.push(...opened);
    await assertShortRoundTrips(opened);
    // proxy_read_timeout is 1.2 s here (scaled to the 500 ms heartbeat).
    await delay(3000);
    for (const client of opened) {
      assert.equal(client.closeEvent, null, `${client.label} is still open`);
      await client.say('after a pause', 2);
    }
    await closeAll(opened);
  });

  it('closes the clients of a killed process; they reconnect to the other', async () => {
    const opened = await openClients(balancer!.url, everyTransport(2));
    clients.push(...opened);
    const victim = opened[0].server;
    const doomed = opened.filter((client) => client.server === victim);
    const spared = opened.filter((client) => client.server !== victim);
    await instances.find((instance) => instance.name === victim)!.child.kill();
    for (const client of doomed) client.send('anyone there?');
    const said = await Promise.all(spared.map((client) => client.say('after the kill', 10)));
    spared.forEach((client, i) => assertOwnMessages(client, said[i]));
    await Promise.all(
      doomed.map((client) =>
        client.until(() => client.closeEvent !== null, `${client.label} to close`, 8000),
      ),
    );
    const again = await openClients(
      balancer!.url,
      doomed.map((client) => ({ transport: client.transport, label: `${client.label} again` })),
    );
    clients.push(...again);
    for (const client of again) {
      assert.notEqual(client.server, victim, `${client.label} is on the live process`);
      assertOwnMessages(client, await client.say('back', 5));
    }
    await closeAll([...opened, ...again]);
  });
});
