/**
 * `conn.locals` in headless Chromium (playwright-core, Debian's chromium): a page opens
 * sockjs-client with a token in the query string on every browser transport; the token
 * middleware in front of the service puts the user in `res.locals`, and the application
 * answers with the user its connection carries.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { attachUpgrade, sockjsMiddleware, type Connection } from '../../lib';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SKIP_REASON, BROWSER_TRANSPORTS } from '../helpers/chromium';
import { listen, until, type TestServer } from '../helpers/server';
import { within } from '../helpers/sockjs-client';

const STEP_TIMEOUT_MS = 15_000;
const CLIENT_SCRIPT = require.resolve('sockjs-client/dist/sockjs.min.js');

const TRANSPORTS = BROWSER_TRANSPORTS;

const USERS: Record<string, string> = { 'token-ada': 'ada' };

const PAGE = '<!doctype html><html><head><script src="/sockjs.min.js"></script></head><body></body></html>';

/** The page's sockjs-client, typed with what the page function uses. */
interface PageGlobals {
  SockJS: new (
    url: string,
    protocols: null,
    options: { transports: string[] },
  ) => {
    onopen: (() => void) | null;
    onmessage: ((event: { readonly data: unknown }) => void) | null;
    onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
    send(data: string): void;
    close(): void;
  };
}

/** In the page: connects on one transport, sends `who`, and reports the answer. */
function askInPage(args: { url: string; transport: string; timeoutMs: number }): Promise<string> {
  const page = globalThis as unknown as PageGlobals;
  return new Promise((resolve) => {
    const sock = new page.SockJS(args.url, null, { transports: [args.transport] });
    const timer = setTimeout(() => resolve(`timed out after ${args.timeoutMs} ms`), args.timeoutMs);
    sock.onopen = () => sock.send('who');
    sock.onmessage = (event) => {
      clearTimeout(timer);
      sock.onclose = null;
      sock.close();
      resolve(String(event.data));
    };
    sock.onclose = (event) => {
      clearTimeout(timer);
      resolve(`closed with ${event.code} ${event.reason}`);
    };
  });
}

describe('conn.locals in headless Chromium', { skip: CHROMIUM_SKIP_REASON }, () => {
  let server: TestServer;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const connections: Connection[] = [];

  before(async () => {
    const service = sockjsMiddleware({ sockjsUrl: '/sockjs.min.js', disconnectDelay: 2000 });
    service.on('connection', (conn) => {
      connections.push(conn);
      conn.on('data', (message) => conn.write(`${String(conn.locals.user)}:${message}`));
    });
    const app = express();
    app.get('/', (_req, res) => {
      res.type('html').send(PAGE);
    });
    app.get('/sockjs.min.js', (_req, res) => res.sendFile(CLIENT_SCRIPT));
    app.use('/svc', (req: Request, res: Response, next: NextFunction) => {
      const user = USERS[String(req.query.token)];
      if (user === undefined) {
        res.status(401).send('no valid token');
        return;
      }
      res.locals.user = user;
      next();
    });
    app.use('/svc', service);
    server = await listen(createServer(app));
    attachUpgrade(server.server);
    browser = await within(
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS }),
      STEP_TIMEOUT_MS + 1000,
      'Chromium to start',
    );
    page = await browser.newPage();
    await page.goto(`${server.url}/`);
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await server?.close();
  });

  for (const [transport, protocol] of Object.entries(TRANSPORTS)) {
    it(
      `carries the user the token middleware found on ${transport}`,
      { timeout: 2 * STEP_TIMEOUT_MS },
      async () => {
        const count = connections.length;
        const answer = await (page as Page).evaluate(askInPage, {
          url: `${server.url}/svc?token=token-ada`,
          transport,
          timeoutMs: STEP_TIMEOUT_MS,
        });
        assert.equal(answer, 'ada:who');
        await until(() => connections.length > count, STEP_TIMEOUT_MS, 'the connection');
        const conn = connections[count];
        assert.equal(conn.protocol, protocol);
        assert.deepEqual({ ...conn.locals }, { user: 'ada' });
      },
    );
  }
});
