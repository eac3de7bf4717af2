/**
 * The echo server from the sockjs-node README, unchanged (spec/fixtures/seed-echo-server.js),
 * with the real sockjs-client in headless Chromium on every browser transport: what the
 * Node client cannot run (iframe transports, jsonp-polling) is covered here.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { until } from '../helpers/server';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SKIP_REASON } from '../helpers/chromium';

const SKIP_REASON = CHROMIUM_SKIP_REASON;
const STEP_TIMEOUT_MS = 15_000;

const FIXTURES = join(__dirname, '..', '..', '..', 'spec', 'fixtures');
const CLIENT_SCRIPT = readFileSync(require.resolve('sockjs-client/dist/sockjs.min.js'));

const TRANSPORTS = [
  'websocket',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
  'iframe-eventsource',
  'iframe-htmlfile',
  'iframe-xhr-polling',
  'jsonp-polling',
] as const;

const MESSAGES = ['hello', '</script><script>', '%41 and %', 'emoji 😀 and \u2028', 'quotes "\' and \\'];

describe(
  'the sockjs-node README echo server in Chromium',
  { skip: SKIP_REASON, timeout: 4 * STEP_TIMEOUT_MS },
  () => {
    let page: Server;
    let pageUrl = '';
    let seed: ChildProcess;
    let seedUrl = '';
    let browser: Browser;

    before(async () => {
      // The page and the client script come from one origin, the SockJS service from another.
      page = createServer((req, res) => {
        if (req.url === '/sockjs.min.js') {
          res.writeHead(200, { 'Content-Type': 'application/javascript' });
          res.end(CLIENT_SCRIPT);
        } else {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><title>seed</title><script src="/sockjs.min.js"></script>');
        }
      });
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

      let output = '';
      seed = spawn(
        process.execPath,
        ['-r', join(FIXTURES, 'listen-on-loopback.js'), join(FIXTURES, 'seed-echo-server.js')],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, SOCKJS_URL: `${pageUrl}/sockjs.min.js` },
        },
      );
      seed.stdout?.on('data', (data: Buffer) => (output += data.toString()));
      await until(() => /LISTENING (\d+)/.test(output), 10_000, 'the seed server to listen');
      seedUrl = `http://127.0.0.1:${/LISTENING (\d+)/.exec(output)?.[1]}/echo`;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        timeout: STEP_TIMEOUT_MS,
      });
    });

    after(async () => {
      await browser?.close();
      seed?.kill();
      await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
    });

    for (const transport of TRANSPORTS) {
      it(`echoes over ${transport}`, async () => {
        const tab = await browser.newPage();
        try {
          await tab.goto(pageUrl);
          const result = await tab.evaluate(
            ({ url, transport, messages, timeout }) =>
              new Promise<{ transport: string; echoed: string[]; code: number }>((resolve, reject) => {
                type Client = {
                  transport: string;
                  onopen: () => void;
                  onmessage: (event: { data: string }) => void;
                  onclose: (event: { code: number }) => void;
                  send(data: string): void;
                  close(code: number, reason: string): void;
                };
                const SockJS = (
                  globalThis as unknown as { SockJS: new (u: string, r: null, o: object) => Client }
                ).SockJS;
                const sock = new SockJS(url, null, { transports: [transport] });
                const echoed: string[] = [];
                let used = '';
                const timer = setTimeout(() => reject(new Error(`timed out over ${transport}`)), timeout);
                sock.onopen = () => {
                  used = sock.transport;
                  messages.forEach((message) => sock.send(message));
                };
                sock.onmessage = (event) => {
                  echoed.push(event.data);
                  if (echoed.length === messages.length) sock.close(1000, 'done');
                };
                sock.onclose = (event) => {
                  clearTimeout(timer);
                  resolve({ transport: used, echoed, code: event.code });
                };
              }),
            { url: seedUrl, transport, messages: MESSAGES, timeout: STEP_TIMEOUT_MS },
          );
          assert.equal(result.transport, transport, 'no fallback to another transport');
          assert.deepEqual(result.echoed, MESSAGES);
          assert.equal(result.code, 1000);
        } finally {
          await tab.close();
        }
      });
    }
  },
);
