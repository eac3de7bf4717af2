/**
 * The cluster demo in a real browser: headless Chromium (Debian's `chromium`) opens the
 * demo page once per browser-only transport, through the round-robin HAProxy
 * configuration of docs/deployment.md, in front of three demo processes forwarding through
 * redis-server. This covers what sockjs-client in Node cannot: the iframe transports and
 * jsonp-polling, whose frames are relayed with their callbacks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SKIP_REASON } from '../helpers/chromium';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DOCUMENTED_HEARTBEAT_MS, documentedConfig, haproxyConfig } from '../../scripts/cluster/configs';
import {
  freePort,
  ScratchDir,
  startDemoInstance,
  startHaproxy,
  startRedis,
  type BalancerProcess,
  type DemoInstance,
  type RedisProcess,
} from '../../scripts/cluster/processes';
import { requireBinary } from '../helpers/cluster';

const haproxy = requireBinary('haproxy', 'haproxy');
const redisServer = requireBinary('redis-server', 'redis-server');
const skip = CHROMIUM_SKIP_REASON ?? (haproxy.skip || redisServer.skip);

/**
 * The browser transports sockjs-client in Node does not have (the Node specs cover the
 * others): their frames are relayed with an htmlfile or jsonp callback, or from an iframe.
 */
const TRANSPORTS = ['iframe-eventsource', 'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling'] as const;

const HEARTBEAT_MS = 2000;
const STEP_MS = 15_000;

interface PageState {
  readonly transport: string | null;
  readonly open: boolean;
  readonly closed: { code: number; reason: string } | null;
  readonly server: string;
  readonly texts: string[];
}

/** What the tests touch of the page (spec/ compiles without the DOM types). */
interface PageGlobals {
  readonly demo: {
    readonly chat: { readonly transport: string | null; readonly readyState: number };
    readonly lastClose: { code: number; reason: string } | null;
  };
  readonly document: {
    getElementById(id: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  };
}

function stateOf(page: Page): Promise<PageState> {
  return page.evaluate(() => {
    const { demo, document } = globalThis as unknown as PageGlobals;
    return {
      transport: demo.chat.transport,
      open: demo.chat.readyState === 1,
      closed: demo.lastClose,
      server: document.getElementById('server')?.textContent ?? '',
      texts: [...document.querySelectorAll('.message .text')].map((element) => element.textContent ?? ''),
    };
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + STEP_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the cluster demo in Chromium, round robin through Redis', { skip, timeout: 4 * STEP_MS }, () => {
  let dir: ScratchDir;
  let redis: RedisProcess | null = null;
  const instances: DemoInstance[] = [];
  let balancer: BalancerProcess | null = null;
  let browser: Browser | null = null;

  before(async () => {
    dir = new ScratchDir('sockjs-browser-cluster-');
    redis = await startRedis(redisServer.path as string, dir);
    const started = await Promise.all(
      ['node1', 'node2', 'node3'].map((name) =>
        startDemoInstance({
          instance: name,
          redisUrl: redis!.url,
          forward: true,
          heartbeatDelay: HEARTBEAT_MS,
        }),
      ),
    );
    instances.push(...started);
    const port = await freePort();
    const config = haproxyConfig(documentedConfig('haproxy-round-robin'), {
      port,
      upstreams: instances.map((instance) => ({ name: instance.name, port: instance.port })),
      timeoutScale: HEARTBEAT_MS / DOCUMENTED_HEARTBEAT_MS,
    });
    balancer = await startHaproxy(haproxy.path as string, config, port, dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_MS });
  });

  after(async () => {
    await browser?.close();
    await balancer?.child.kill();
    await Promise.all(instances.map((instance) => instance.child.kill()));
    await redis?.child.kill();
    dir?.remove();
  });

  it('carries the iframe transports and jsonp-polling, and one chat room, across the processes', async () => {
    // One page at a time: sockjs-client gives a transport about a second to open, which
    // pages all starting at once on a small machine may not get.
    const pages: Page[] = [];
    const transports: string[] = [];
    const servers = new Set<string>();
    // sockjs-client gives a transport about a second to open and then gives up with 2000
    // "All transports failed": on a loaded machine a page may try again, up to three times.
    const openPage = async (transport: string): Promise<Page | null> => {
      const page = await browser!.newPage();
      await page.goto(`${balancer!.url}/?transport=${transport}`, { waitUntil: 'domcontentloaded' });
      let gaveUp = false;
      await until(async () => {
        const state = await stateOf(page);
        if (state.closed !== null) {
          if (state.closed.code !== 2000)
            throw new Error(`${transport} closed: ${JSON.stringify(state.closed)}`);
          gaveUp = true;
          return true;
        }
        return state.open && state.server !== '' && state.server !== '—';
      }, `${transport} to open`);
      if (!gaveUp) return page;
      await page.close();
      return null;
    };
    const open = async (transport: string): Promise<void> => {
      let page: Page | null = null;
      for (let attempt = 1; page === null; attempt++) {
        page = await openPage(transport);
        if (page === null && attempt === 3) throw new Error(`${transport} did not open in three attempts`);
      }
      pages.push(page);
      transports.push(transport);
      const state = await stateOf(page);
      assert.equal(state.transport, transport);
      servers.add(state.server);
    };
    for (const transport of TRANSPORTS) await open(transport);
    // Round robin spreads requests, not sessions: which process opens a session is up to
    // chance. A few more pages make sure the room spans processes.
    for (let extra = 0; servers.size < 2 && extra < 8; extra++)
      await open(TRANSPORTS[extra % TRANSPORTS.length]);
    assert.ok(servers.size >= 2, `sessions held by several processes: ${[...servers].join(', ')}`);
    for (const [i, page] of pages.entries()) {
      await page.fill('#message', `hello ${i} over ${transports[i]}`);
      await page.press('#message', 'Enter');
    }
    const said = transports.map((transport, i) => `hello ${i} over ${transport}`);
    for (const [i, page] of pages.entries()) {
      await until(async () => {
        const texts = (await stateOf(page)).texts;
        return said.every((text) => texts.includes(text));
      }, `${transports[i]} to hear everyone`);
      const state = await stateOf(page);
      assert.ok(state.open, `${transports[i]} is still open`);
    }
  });
});
