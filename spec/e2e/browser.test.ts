/**
 * The demo in a real browser: headless Chromium from Debian's `chromium` package, driven by
 * playwright-core (which never downloads a browser here). Every transport sockjs-client
 * offers, forced one at a time, with the page and the services on one origin and on two:
 * the hard message set round trip, the client's close, and a server close. Then the chat
 * between two pages on different transports, and the screenshot the README shows.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Connection, ConnectionProtocol, SockjsRouter } from '../../lib';
import { BYE_CODE, BYE_COMMAND, BYE_REASON } from '../../demo-app/chat';
import { startDemo, type Demo } from '../../demo-app/demo';
import { until } from '../helpers/server';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SKIP_REASON, BROWSER_TRANSPORTS } from '../helpers/chromium';
import { within } from '../helpers/sockjs-client';

const SKIP_REASON = CHROMIUM_SKIP_REASON;

const ROOT = join(__dirname, '..', '..', '..');
/** The README's picture of the demo, refreshed only when asked (UPDATE_DEMO_SCREENSHOT=1). */
const README_SCREENSHOT = join(ROOT, 'docs', 'demo.png');

/** Longest wait for any one step in a page (connecting, a round trip, a close). */
const STEP_TIMEOUT_MS = 15_000;
/**
 * The services' disconnect delay: how long a polling session survives between two polls,
 * and lingers after its page closed. Shorter than the default 5 s to keep the run short,
 * long enough for a browser on a loaded machine to send its next poll.
 */
const DISCONNECT_DELAY_MS = 2000;
/**
 * The services' heartbeat delay. A polling client that closes cannot tell the server: the
 * server learns it when the pending poll ends unanswered. The browser does not cancel a
 * JSONP script request, and sockjs-client sometimes starts one more xhr poll while it
 * closes; such a poll is held until the next heartbeat, so the server's `close` comes up
 * to heartbeatDelay + disconnectDelay after the page's.
 */
const HEARTBEAT_DELAY_MS = 2000;
const TEST_OPTIONS = { skip: SKIP_REASON, timeout: 4 * STEP_TIMEOUT_MS };

const TRANSPORTS = BROWSER_TRANSPORTS;
type BrowserTransport = keyof typeof TRANSPORTS;

/** The error of an answer to a JSONP poll that sockjs-client abandoned on close. */
const ORPHAN_JSONP_CALLBACK = /^_jp\.\w+ is not a function$/;

const ORIGINS = ['same-origin', 'cross-origin'] as const;
type OriginMode = (typeof ORIGINS)[number];

/** 64 KiB of numbered lines, so a lost, cut or reordered piece shows. */
const MESSAGE_64_KIB = Array.from(
  { length: 1024 },
  (_, i) => `${String(i).padStart(5, '0')}:${'x'.repeat(57)}\n`,
).join('');

/** The messages every transport must carry both ways unchanged, in this order. */
function hardMessages(tag: string): { name: string; text: string }[] {
  return [
    { name: 'ASCII', text: tag },
    { name: '64 KiB', text: MESSAGE_64_KIB },
    { name: 'emoji and other astral characters', text: '😀 𝄞 🎉👩‍👩‍👧 \u{10FFFF}' },
    { name: 'line and paragraph separators', text: 'a\u2028b\u2029c' },
    { name: 'NUL', text: '\u0000' },
    { name: 'NUL inside text', text: 'before\u0000after' },
    { name: 'quotes and backslashes', text: `"'\\"\\\\ \\u0041` },
    { name: '%41', text: '%41' },
    { name: 'a lone %', text: '%' },
    { name: 'script-closing HTML', text: '</script><script>alert(1)</script>' },
    { name: 'JSON-looking object', text: '{"a":[1,"b"],"c":null}' },
    { name: 'JSON-looking array', text: '["a","b"]' },
  ];
}

// ---- what runs inside the page (serialized by playwright: no closures) -------------

/** sockjs-client's close event, as the page sees it. */
interface PageCloseEvent {
  readonly code: number;
  readonly reason: string;
}

/** The browser's `SockJS` instance, typed with what these tests touch. */
interface BrowserSockJS {
  readonly readyState: number;
  readonly transport: string | null | undefined;
  onopen: (() => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: PageCloseEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'close', listener: (event: PageCloseEvent) => void): void;
}

/** The page's globals: sockjs-client and what demo-app/public/app.js exposes. */
interface PageGlobals {
  SockJS: new (url: string, protocols: null, options: { transports: string[] }) => BrowserSockJS;
  demo: {
    readonly servicesOrigin: string;
    readonly chat: BrowserSockJS;
    readonly echo: BrowserSockJS;
    readonly latencies: number[];
    readonly lastClose: PageCloseEvent | null;
    readonly lastEchoClose: PageCloseEvent | null;
  };
  /** The test's own echo connection. */
  echoTest?: BrowserSockJS;
  document: { getElementById(id: string): { readonly textContent: string | null } | null };
}

interface EchoArgs {
  readonly url: string;
  readonly transport: string;
  readonly messages: readonly string[];
  readonly timeoutMs: number;
}

interface EchoOutcome {
  readonly transport: string | null;
  readonly received: string[];
  readonly error: string | null;
}

/** In the page: opens an echo connection on one transport, sends everything, collects the echoes. */
function echoInPage(args: EchoArgs): Promise<EchoOutcome> {
  const page = globalThis as unknown as PageGlobals;
  return new Promise((resolve) => {
    const received: string[] = [];
    const sock = new page.SockJS(args.url, null, { transports: [args.transport] });
    page.echoTest = sock;
    const timer = setTimeout(() => {
      const error = `timed out after ${args.timeoutMs} ms with ${received.length} of ${args.messages.length} echoes`;
      resolve({ transport: sock.transport ?? null, received, error });
    }, args.timeoutMs);
    sock.onopen = () => {
      for (const message of args.messages) sock.send(message);
    };
    sock.onmessage = (event) => {
      received.push(String(event.data));
      if (received.length < args.messages.length) return;
      clearTimeout(timer);
      resolve({ transport: sock.transport ?? null, received, error: null });
    };
    sock.onclose = (event) => {
      clearTimeout(timer);
      resolve({ transport: null, received, error: `closed with ${event.code} ${event.reason}` });
    };
  });
}

/** In the page: closes the test's echo connection with 1000 and reports its close event. */
function closeEchoInPage(timeoutMs: number): Promise<PageCloseEvent | string> {
  const sock = (globalThis as unknown as PageGlobals).echoTest;
  if (sock === undefined) return Promise.resolve('no echo connection');
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`no close event after ${timeoutMs} ms`), timeoutMs);
    sock.onclose = (event) => {
      clearTimeout(timer);
      resolve({ code: event.code, reason: event.reason });
    };
    sock.close(1000, 'Done');
  });
}

/** In the page: sends a chat message and reports the close event that follows. */
function chatUntilClosedInPage(args: { text: string; timeoutMs: number }): Promise<PageCloseEvent | string> {
  const { chat } = (globalThis as unknown as PageGlobals).demo;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`no close event after ${args.timeoutMs} ms`), args.timeoutMs);
    chat.addEventListener('close', (event) => {
      clearTimeout(timer);
      resolve({ code: event.code, reason: event.reason });
    });
    chat.send(args.text);
  });
}

// ---- the server side --------------------------------------------------------------

/** One connection as the application saw it. */
interface ServerConnection {
  readonly connection: Connection;
  readonly received: string[];
  closeEvents: number;
}

/** Records every connection of a service, with its messages and close events. */
class ServiceWatch {
  readonly connections: ServerConnection[] = [];

  constructor(service: SockjsRouter) {
    service.on('connection', (connection) => {
      const record: ServerConnection = { connection, received: [], closeEvents: 0 };
      connection.on('data', (message) => record.received.push(message));
      connection.on('close', () => (record.closeEvents += 1));
      this.connections.push(record);
    });
  }

  open(): ServerConnection[] {
    return this.connections.filter((record) => record.closeEvents === 0);
  }
}

interface DemoUnderTest {
  readonly demo: Demo;
  readonly chat: ServiceWatch;
  readonly echo: ServiceWatch;
}

// ---- helpers ----------------------------------------------------------------------

/** Compares message lists without printing 64 KiB diffs. */
function assertSameMessages(
  actual: readonly string[],
  expected: readonly { name: string; text: string }[],
  where: string,
): void {
  for (let i = 0; i < expected.length; i++) {
    const { name, text } = expected[i];
    const got = actual[i];
    if (got === text) continue;
    const shown = (s: string | undefined): string =>
      s === undefined ? 'nothing' : `${s.length} chars ${JSON.stringify(s.slice(0, 80))}`;
    assert.fail(`${where}: message ${i + 1} (${name}) differs: expected ${shown(text)}, got ${shown(got)}`);
  }
  assert.equal(
    actual.length,
    expected.length,
    `${where}: ${actual.length} messages, expected ${expected.length}`,
  );
}

/** A step's outcome, for the results table. */
type Outcome = 'pass' | 'fail';

class Results {
  private readonly cases = new Map<string, { steps: Map<string, Outcome>; started: number; ended: number }>();

  /** Wraps a test body so its outcome lands in the table. */
  step(key: string, name: string, body: () => Promise<void>): () => Promise<void> {
    return async () => {
      const entry = this.cases.get(key) ?? { steps: new Map(), started: Date.now(), ended: Date.now() };
      this.cases.set(key, entry);
      try {
        await body();
        entry.steps.set(name, 'pass');
      } catch (error) {
        entry.steps.set(name, 'fail');
        throw error;
      } finally {
        entry.ended = Date.now();
      }
    };
  }

  cell(key: string): string {
    const entry = this.cases.get(key);
    if (entry === undefined) return 'not run';
    const failed = [...entry.steps].filter(([, outcome]) => outcome === 'fail').map(([name]) => name);
    const seconds = ((entry.ended - entry.started) / 1000).toFixed(1);
    return failed.length === 0
      ? `pass (${entry.steps.size} checks, ${seconds} s)`
      : `FAIL: ${failed.join(', ')}`;
  }

  table(
    rows: readonly string[],
    columns: readonly string[],
    key: (row: string, column: string) => string,
  ): string {
    const body = rows.map((row) => [row, ...columns.map((column) => this.cell(key(row, column)))]);
    const all = [['transport', ...columns], ...body];
    const widths = all[0].map((_, i) => Math.max(...all.map((line) => line[i].length)));
    const format = (line: string[]): string => line.map((text, i) => text.padEnd(widths[i])).join(' | ');
    return [format(all[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(format)].join('\n');
  }
}

// ---- the tests --------------------------------------------------------------------

describe('the demo in headless Chromium', () => {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let browserVersion = '?';
  const demos = new Map<OriginMode, DemoUnderTest>();
  const pages = new Set<Page>();
  const results = new Results();
  const chatResults: string[] = [];
  const startedAt = Date.now();

  before(async () => {
    if (SKIP_REASON !== undefined) return;
    for (const mode of ORIGINS) {
      const demo = await startDemo({
        port: 0,
        host: '127.0.0.1',
        crossOrigin: mode === 'cross-origin',
        disconnectDelay: DISCONNECT_DELAY_MS,
        heartbeatDelay: HEARTBEAT_DELAY_MS,
      });
      demos.set(mode, { demo, chat: new ServiceWatch(demo.chat), echo: new ServiceWatch(demo.echo) });
    }
    browser = await within(
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS }),
      STEP_TIMEOUT_MS + 1000,
      'Chromium to start',
    );
    browserVersion = browser.version();
    // One context for every page: a new context per page costs about a second here.
    context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  });

  after(async () => {
    await Promise.allSettled([...pages].map((page) => page.close()));
    await context?.close();
    await browser?.close();
    await Promise.allSettled([...demos.values()].map(({ demo }) => demo.close()));
    if (SKIP_REASON !== undefined) {
      console.log(`browser tests skipped: ${SKIP_REASON}`);
      return;
    }
    const columns = ORIGINS.map(String);
    const table = results.table(Object.keys(TRANSPORTS), columns, (row, column) => `${row} ${column}`);
    console.log(`\nsockjs-client in Chromium ${browserVersion}, by transport and origin:\n`);
    console.log(table);
    for (const line of chatResults) console.log(line);
    console.log(`\nbrowser tests took ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  });

  /** A new page on the demo, with its uncaught errors collected. */
  async function openPage(mode: OriginMode, transport: string): Promise<{ page: Page; errors: string[] }> {
    assert.ok(context, 'Chromium did not start');
    const { demo } = demoFor(mode);
    const page = await context.newPage();
    pages.add(page);
    const errors: string[] = [];
    page.on('pageerror', (error) => {
      // A closed JSONP connection's last poll is still in flight (removing its script tag
      // does not cancel the request); when the server answers it, the callback sockjs-client
      // deleted on close is called. That is sockjs-client's, and harmless.
      if (!ORPHAN_JSONP_CALLBACK.test(error.message)) errors.push(error.message);
    });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    await page.goto(`${demo.url}?transport=${transport}`, { waitUntil: 'domcontentloaded' });
    // Connecting is over once both connections opened or gave up (no fallback: one transport).
    await page.waitForFunction(() => {
      const { demo: app } = globalThis as unknown as PageGlobals;
      return app.chat.readyState !== 0 && app.echo.readyState !== 0;
    });
    return { page, errors };
  }

  /** Both of the page's connections are open on `transport`, and the page says so. */
  async function assertConnectedOver(page: Page, transport: BrowserTransport): Promise<void> {
    const state = await page.evaluate(() => {
      const { demo, document } = globalThis as unknown as PageGlobals;
      return {
        chat: {
          readyState: demo.chat.readyState,
          transport: demo.chat.transport ?? null,
          closed: demo.lastClose,
        },
        echo: {
          readyState: demo.echo.readyState,
          transport: demo.echo.transport ?? null,
          closed: demo.lastEchoClose,
        },
        shown: document.getElementById('transport')?.textContent ?? null,
      };
    });
    for (const name of ['chat', 'echo'] as const) {
      const { readyState, closed } = state[name];
      assert.equal(readyState, 1, `the ${name} did not open over ${transport}: ${JSON.stringify(closed)}`);
      assert.equal(state[name].transport, transport, `the ${name} transport`);
    }
    assert.equal(state.shown, transport, 'the page shows the transport in use');
  }

  async function closePage(page: Page | undefined): Promise<void> {
    if (page === undefined) return;
    pages.delete(page);
    await page.close();
  }

  function demoFor(mode: OriginMode): DemoUnderTest {
    const found = demos.get(mode);
    assert.ok(found, `the ${mode} demo did not start`);
    return found;
  }

  /** After a page closes, its sessions end within the disconnect delay. */
  async function untilNoConnections(mode: OriginMode): Promise<void> {
    const { chat, echo } = demoFor(mode);
    await until(
      () => chat.open().length === 0 && echo.open().length === 0,
      STEP_TIMEOUT_MS,
      `every server connection of the closed ${mode} pages to close`,
    );
  }

  describe('the chat room', () => {
    const CHAT_CASES = [
      { mode: 'same-origin', first: 'websocket', second: 'xhr-streaming', screenshot: true },
      { mode: 'cross-origin', first: 'iframe-eventsource', second: 'jsonp-polling', screenshot: false },
    ] as const satisfies readonly {
      mode: OriginMode;
      first: BrowserTransport;
      second: BrowserTransport;
      screenshot: boolean;
    }[];

    for (const { mode, first, second, screenshot } of CHAT_CASES) {
      it(
        `${mode}: a ${first} page and a ${second} page see each other's messages`,
        TEST_OPTIONS,
        async () => {
          const started = Date.now();
          const opened: Page[] = [];
          try {
            const a = await openPage(mode, first);
            opened.push(a.page);
            const b = await openPage(mode, second);
            opened.push(b.page);
            await assertConnectedOver(a.page, first);
            await assertConnectedOver(b.page, second);
            // Each page lists both people once the join reached it.
            for (const { page } of [a, b]) await page.locator('#members li:not(.empty)').nth(1).waitFor();

            const say = async (page: Page, text: string): Promise<void> => {
              await page.locator('#message').fill(text);
              await page.locator('#message').press('Enter');
              for (const { page: reader } of [a, b]) {
                await reader.locator('#log .message .text', { hasText: text }).waitFor();
              }
            };
            await say(a.page, `Hello from the ${first} page.`);
            await say(b.page, `Hi! Here it arrived over ${second}.`);
            await say(a.page, 'Every message reaches everyone, in one order.');

            const texts = (page: Page): Promise<string[]> =>
              page.locator('#log .message .text').allTextContents();
            assert.deepEqual(
              await texts(a.page),
              await texts(b.page),
              'both pages show the same conversation',
            );
            const via = await a.page.locator('#log .message .via').allTextContents();
            assert.deepEqual(
              via,
              [first, second, first].map((name) => TRANSPORTS[name]),
            );

            if (screenshot) {
              // The latency and statistics panels fill in within a couple of seconds.
              await a.page.waitForFunction(() => {
                const { document } = globalThis as unknown as PageGlobals;
                return document.getElementById('stat-chat-connections')?.textContent === '2';
              });
              await a.page.waitForFunction(
                () => (globalThis as unknown as PageGlobals).demo.latencies.length >= 2,
              );
              await a.page.locator('#message').blur();
              // Taken on every run (it must work), kept only for `npm run screenshot`.
              const folder = mkdtempSync(join(tmpdir(), 'sockjs-screenshot-'));
              try {
                const file = join(folder, 'demo.png');
                await a.page.screenshot({ path: file, fullPage: true });
                if (process.env.UPDATE_DEMO_SCREENSHOT === '1') copyFileSync(file, README_SCREENSHOT);
              } finally {
                rmSync(folder, { recursive: true, force: true });
              }
            }
            assert.deepEqual([...a.errors, ...b.errors], [], 'no uncaught errors in the pages');
            await Promise.all(opened.splice(0).map(closePage));
            chatResults.push(`chat, ${mode}: ${first} <-> ${second}: pass (${Date.now() - started} ms)`);
          } catch (error) {
            chatResults.push(`chat, ${mode}: ${first} <-> ${second}: FAIL`);
            throw error;
          } finally {
            // The transport cases after this one count the server's connections: leave none.
            await Promise.allSettled(opened.map(closePage));
          }
        },
      );
    }
  });

  for (const [transport, serverProtocol] of Object.entries(TRANSPORTS) as [
    BrowserTransport,
    ConnectionProtocol,
  ][]) {
    for (const mode of ORIGINS) {
      describe(`${transport}, ${mode}`, () => {
        const key = `${transport} ${mode}`;
        const tag = `Hello from ${transport} (${mode})!`;
        const messages = hardMessages(tag);
        let page: Page | undefined;
        let errors: string[] = [];
        let echoConnection: ServerConnection | undefined;
        let chatConnection: ServerConnection | undefined;

        after(async () => {
          if (SKIP_REASON !== undefined) return;
          await closePage(page);
        });

        it(
          `connects over ${transport} and nothing else, on the page and on the server`,
          TEST_OPTIONS,
          results.step(key, 'connect', async () => {
            const { chat } = demoFor(mode);
            // Sessions of earlier pages may still be ending: this page's come after them.
            const earlier = chat.connections.length;
            ({ page, errors } = await openPage(mode, transport));
            await assertConnectedOver(page, transport);
            const mine = chat.connections.slice(earlier);
            assert.equal(mine.length, 1, 'one chat connection on the server');
            chatConnection = mine[0];
            assert.equal(chatConnection.closeEvents, 0, 'the chat connection is open on the server');
            assert.equal(chatConnection.connection.protocol, serverProtocol);
            assert.deepEqual(errors, [], 'no uncaught errors in the page');
          }),
        );

        it(
          'echoes the hard message set back unchanged and in order',
          TEST_OPTIONS,
          results.step(key, 'echo', async () => {
            assert.ok(page, 'the page did not open');
            const { demo, echo } = demoFor(mode);
            const outcome = await within(
              page.evaluate(echoInPage, {
                url: `${demo.servicesUrl}/echo`,
                transport,
                messages: messages.map(({ text }) => text),
                timeoutMs: STEP_TIMEOUT_MS,
              }),
              STEP_TIMEOUT_MS + 2000,
              'the echo round trip',
            );
            assert.equal(outcome.error, null);
            assert.equal(outcome.transport, transport);
            assertSameMessages(outcome.received, messages, 'the page got back');

            echoConnection = echo.connections.find((record) => record.received[0] === tag);
            assert.ok(echoConnection, 'the server saw the echo connection');
            assert.equal(echoConnection.connection.protocol, serverProtocol);
            assertSameMessages(echoConnection.received, messages, 'the server received');
          }),
        );

        it(
          'closes with 1000: the page gets the close event and the server connection closes',
          TEST_OPTIONS,
          results.step(key, 'client close', async () => {
            assert.ok(page, 'the page did not open');
            assert.ok(echoConnection, 'no echo connection to close');
            const event = await within(
              page.evaluate(closeEchoInPage, STEP_TIMEOUT_MS),
              STEP_TIMEOUT_MS + 2000,
              'the close',
            );
            assert.deepEqual(event, { code: 1000, reason: 'Done' });
            const closing = echoConnection;
            await until(() => closing.closeEvents > 0, STEP_TIMEOUT_MS, 'the server connection to close');
            assert.equal(closing.closeEvents, 1, 'close is emitted once');
          }),
        );

        it(
          `delivers a server close with its code and reason (${BYE_CODE} "${BYE_REASON}")`,
          TEST_OPTIONS,
          results.step(key, 'server close', async () => {
            assert.ok(page, 'the page did not open');
            assert.ok(chatConnection, 'no chat connection');
            const event = await within(
              page.evaluate(chatUntilClosedInPage, { text: BYE_COMMAND, timeoutMs: STEP_TIMEOUT_MS }),
              STEP_TIMEOUT_MS + 2000,
              'the server close',
            );
            assert.deepEqual(event, { code: BYE_CODE, reason: BYE_REASON });
            const shown = await page.locator('#status').textContent();
            assert.equal(shown, `Disconnected (${BYE_CODE} ${BYE_REASON})`);
            const closing = chatConnection;
            await until(
              () => closing.closeEvents > 0,
              STEP_TIMEOUT_MS,
              'the server chat connection to close',
            );
            assert.deepEqual(errors, [], 'no uncaught errors in the page');
          }),
        );
      });
    }
  }

  it('ends the server session of every closed page', TEST_OPTIONS, async () => {
    for (const mode of ORIGINS) await untilNoConnections(mode);
    for (const { chat, echo } of demos.values()) {
      for (const record of [...chat.connections, ...echo.connections]) {
        assert.equal(record.closeEvents, 1, 'close is emitted exactly once');
      }
    }
  });
});
