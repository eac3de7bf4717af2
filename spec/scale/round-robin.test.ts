/**
 * Balancing without sticky sessions: the round-robin HAProxy configuration of
 * docs/deployment.md in front of three demo processes that forward through a real Redis
 * (`broker.forward()`), so any process serves any request of a session. The chat room
 * spans the three processes. In every setup of spec/helpers/redis-cluster.ts: node-redis
 * and ioredis, on one redis-server and on a three-shard Redis Cluster.
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
  assertOwnMessages,
  assertOwnOriginOnly,
  closeAll,
  everyTransport,
  assertShortRoundTrips,
  startDemoInstances,
  openClients,
  requireBinary,
} from '../helpers/cluster';
import { GET } from '../helpers/http';
import { REDIS_SETUPS, RedisBed } from '../helpers/redis-cluster';

const haproxy = requireBinary('haproxy', 'haproxy');

/** Requests each server took, from HAProxy's statistics page. */
async function requestsByServer(statsUrl: string): Promise<Map<string, number>> {
  const csv = (await GET(`${statsUrl};csv`)).body;
  const lines = csv.replace(/^# /, '').trim().split('\n');
  const columns = lines[0].split(',');
  const [proxyColumn, nameColumn, requestsColumn] = ['pxname', 'svname', 'req_tot'].map((name) =>
    columns.indexOf(name),
  );
  const counts = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[proxyColumn] === 'app' && cells[nameColumn].startsWith('node')) {
      counts.set(cells[nameColumn], Number(cells[requestsColumn]));
    }
  }
  return counts;
}

for (const setup of REDIS_SETUPS)
  describe(
    `HAProxy round robin, forwarding through Redis, ${setup.name} (docs/deployment.md, docs/scale-out.md)`,
    { skip: haproxy.skip || setup.skip },
    () => {
      let dir: ScratchDir;
      let redis: RedisBed | null = null;
      const instances: DemoInstance[] = [];
      let balancer: BalancerProcess | null = null;
      let statsUrl = '';
      const clients: ChatClient[] = [];

      before(async () => {
        dir = new ScratchDir('sockjs-round-robin-');
        redis = await RedisBed.start(setup);
        await startDemoInstances(instances, 3, { ...redis.demoOptions, forward: true });
        const port = await freePort();
        const statsPort = await freePort();
        statsUrl = `http://127.0.0.1:${statsPort}/stats`;
        const config =
          haproxyConfig(documentedConfig('haproxy-round-robin'), {
            port,
            upstreams: instances.map((instance) => ({ name: instance.name, port: instance.port })),
            timeoutScale: HEARTBEAT_MS / DOCUMENTED_HEARTBEAT_MS,
          }) + `\nlisten stats\n    bind 127.0.0.1:${statsPort}\n    stats enable\n    stats uri /stats\n`;
        balancer = await startHaproxy(haproxy.path as string, config, port, dir);
      });

      after(async () => {
        await closeAll(clients);
        await balancer?.child.kill();
        await Promise.all(instances.map((instance) => instance.child.kill()));
        await redis?.stop();
        dir?.remove();
      });

      it("serves pages of its own origin from any process, and refuses other pages' origins", async () => {
        await assertOwnOriginOnly(balancer!.url);
      });

      it('serves every request of a session from any process, on every transport, and loses no message', async () => {
        const before = await requestsByServer(statsUrl);
        const opened = await openClients(balancer!.url, everyTransport(3));
        clients.push(...opened);
        const said = await Promise.all(opened.map((client) => client.say('hello', 20)));
        opened.forEach((client, i) => assertOwnMessages(client, said[i]));

        // One room across the processes: everyone heard everyone.
        const everything = said.flat();
        for (const client of opened) {
          await client.until(() => {
            const heard = new Set(client.messages().map((event) => event.text));
            return everything.every((text) => heard.has(text));
          }, `${client.label} to hear everyone`);
        }
        // Round robin really spread the requests: every process took a share.
        const afterwards = await requestsByServer(statsUrl);
        const taken = instances.map(
          (instance) => (afterwards.get(instance.name) ?? 0) - (before.get(instance.name) ?? 0),
        );
        const total = taken.reduce((sum, n) => sum + n, 0);
        // At least half a fair share each: how many requests a run makes varies with timing.
        instances.forEach((instance, i) =>
          assert.ok(taken[i] >= total / 6, `${instance.name} served ${taken[i]} of ${total} requests`),
        );
        await closeAll(opened);
      });

      it('keeps the round trip of forwarded streams short', async () => {
        const opened = await openClients(
          balancer!.url,
          (['xhr-streaming', 'xhr-polling', 'eventsource'] as const).map((transport) => ({
            transport,
            label: transport,
          })),
        );
        clients.push(...opened);
        await assertShortRoundTrips(opened);
        await closeAll(opened);
      });

      it('closes the sessions of a killed process; they reconnect, and the others lose nothing', async () => {
        const opened = await openClients(balancer!.url, everyTransport(3));
        clients.push(...opened);
        const victim = opened[0].server;
        await instances.find((instance) => instance.name === victim)!.child.kill();

        // Every client talks on. Sessions the dead process held end; so may those that had a
        // request in flight through it. Every other client gets each of its messages back.
        const outcomes = await Promise.all(
          opened.map(async (client) => {
            try {
              return { client, said: await client.say('after the kill', 10) };
            } catch {
              return { client, said: null };
            }
          }),
        );
        for (const { client, said } of outcomes) {
          if (said !== null && client.closeEvent === null) {
            assertOwnMessages(client, said);
            continue;
          }
          await client.until(() => client.closeEvent !== null, `${client.label} to close`, 8000);
        }
        for (const client of opened.filter((each) => each.server === victim)) {
          await client.until(
            () => client.closeEvent !== null,
            `${client.label} (on ${victim}) to close`,
            8000,
          );
        }
        const survivors = outcomes.filter(({ client }) => client.closeEvent === null);
        assert.ok(survivors.length > 0, 'the sessions of the live processes went on');

        const again = await openClients(
          balancer!.url,
          outcomes
            .filter(({ client }) => client.closeEvent !== null)
            .map(({ client }) => ({ transport: client.transport, label: `${client.label} again` })),
        );
        clients.push(...again);
        for (const client of again) {
          assert.notEqual(client.server, victim, `${client.label} is held by a live process`);
          assertOwnMessages(client, await client.say('back', 5));
        }
        await closeAll([...opened, ...again]);
      });
    },
  );
