/**
 * A property (fast-check) on a service of its own: ASCII messages, whatever characters they
 * hold, come back byte-exact on a websocket and on xhr-polling.
 *
 * Seeds are random. A failure prints its seed, path and shrunk counterexample; replay it
 * with `FUZZ_SEED=<seed> FUZZ_PATH=<path>`. `FUZZ_SCALE=10` runs the property ten times
 * longer (bug hunts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import fc from 'fast-check';
import { attachUpgrade, sockjsMiddleware } from '../../lib/index';
import { listen, type TestServer } from '../helpers/server';
import { POST } from '../helpers/http';
import { asciiSpecials } from '../helpers/protocol';
import { WsClient } from '../helpers/websocket';
import { settings } from './settings';

describe('plain ASCII framing', () => {
  let server: TestServer;
  before(async () => {
    const app = express();
    const echo = sockjsMiddleware({ log: () => undefined, heartbeatDelay: 60_000 });
    echo.on('connection', (conn) => conn.on('data', (message: string) => conn.write(message)));
    app.use('/echo', echo);
    const httpServer = createServer(app);
    attachUpgrade(httpServer);
    server = await listen(httpServer);
  });
  after(() => server.close());

  it('echoes ASCII messages byte-exact on a websocket and on xhr-polling, whatever they hold', async () => {
    // Mostly plain characters, now and then one JSON escapes: long enough for the
    // four-bytes-at-a-time test, with the special characters at random offsets.
    const charArb = fc.oneof(
      { weight: 15, arbitrary: fc.constantFrom(...'abcdXYZ0189 ~!#$%&*+-./:;<=>?@^_`{|}') },
      { weight: 1, arbitrary: fc.constantFrom(...asciiSpecials()) },
    );
    const batchArb = fc.array(fc.string({ unit: charArb, maxLength: 300, size: 'max' }), {
      minLength: 1,
      maxLength: 3,
    });
    const session = `${server.url}/echo/000/${randomUUID()}`;
    assert.equal((await POST(`${session}/xhr`)).body, 'o\n');
    const ws = await WsClient.connect(`${server.url}/echo/000/${randomUUID()}/websocket`);
    try {
      assert.equal(await ws.recv(), 'o');
      await fc.assert(
        fc.asyncProperty(batchArb, async (batch) => {
          const json = JSON.stringify(batch);
          ws.send(json);
          assert.equal(await ws.recv(), 'a' + json);
          assert.equal((await POST(`${session}/xhr_send`, { body: json })).status, 204);
          assert.equal((await POST(`${session}/xhr`)).body, 'a' + json + '\n');
        }),
        settings(200, 5000),
      );
    } finally {
      await ws.close();
    }
  });
});
