import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import express from 'express';
import { sockjsMiddleware } from '../lib/index';
import { DISCARD_LIMIT } from '../lib/http/refused-body';
import { listen, until, type TestServer } from './helpers/server';
import { POST } from './helpers/http';

const LIMIT = 64 * 1024;
const CHUNK = Buffer.alloc(16 * 1024, 'x');

/** Large enough to overflow what loopback sockets buffer, so unread bytes are left behind. */
const BODY = 4 * 1024 * 1024;

/**
 * Sends a send body of BODY bytes (with Content-Length, or chunked) the way a client that
 * reads only after writing does: chunk after chunk, each once the last has drained; then
 * reads until the server closes. Resolves with what was read, or the error that came first.
 * With `stallUntil`, the body stops after a few bytes until the answer ends with that text.
 */
async function sendThenRead(
  port: number,
  path: string,
  chunked: boolean,
  stallUntil: string | null = null,
): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  let failure: string | null = null;
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => (received += text));
  socket.on('error', (error: NodeJS.ErrnoException) => (failure ??= error.code ?? error.message));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY}`;
  // A page of the service's own origin (jsonp_send is a form post, which names its page).
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nReferer: http://x/chat.html\r\n${framing}\r\n\r\n`);
  const chunk = chunked
    ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])
    : CHUNK;
  let sent = 0;
  if (stallUntil !== null) {
    // A first piece, then nothing until the answer has come, then the rest of that chunk.
    socket.write(chunk.subarray(0, 10));
    await until(() => received.endsWith(stallUntil), 3000, 'the answer to a stalled body');
    socket.write(chunk.subarray(10));
    sent = CHUNK.length;
  }
  for (; sent < BODY && failure === null && !socket.destroyed; sent += CHUNK.length) {
    if (!socket.write(chunk)) {
      await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
  }
  if (chunked && failure === null && !socket.destroyed) socket.write('0\r\n\r\n');
  await closed;
  return failure ?? received;
}

describe('a refused send body', () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    const service = sockjsMiddleware({ maxBodySize: LIMIT, bodyTimeout: 300, disconnectDelay: 5000 });
    service.on('connection', (conn) => conn.on('data', (m: string) => conn.write(m)));
    const app = express();
    app.use('/echo', service);
    server = await listen(app);
    base = `${server.url}/echo`;
  });
  after(() => server.close());

  async function openSession(): Promise<string> {
    const path = `${base}/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    return path;
  }

  async function assertEchoes(path: string, message: string): Promise<void> {
    assert.equal((await POST(`${path}/xhr_send`, { body: JSON.stringify([message]) })).status, 204);
    assert.equal((await POST(`${path}/xhr`)).body, `a[${JSON.stringify(message)}]\n`);
  }

  for (const chunked of [false, true]) {
    const how = chunked ? 'chunked' : 'with Content-Length';
    it(`is answered 413 for every client that sends 64 times the limit (${how}), and the session lives on`, async () => {
      const path = await openSession();
      for (let i = 0; i < 50; i++) {
        const transport = i % 2 === 0 ? 'xhr_send' : 'jsonp_send';
        const answer = await sendThenRead(server.port, `${new URL(path).pathname}/${transport}`, chunked);
        assert.match(answer, /^HTTP\/1\.1 413 Payload Too Large\r\n/, `request ${i + 1} (${transport})`);
        assert.match(answer, /\r\nConnection: close\r\n/i);
        assert.ok(answer.endsWith('\r\n\r\nPayload too large.'), answer);
      }
      await assertEchoes(path, 'still here');
    });
  }

  it('cuts the connection of a body that goes on far past what is discarded', async () => {
    const path = await openSession();
    const socket = connect(server.port, '127.0.0.1');
    let written = 0;
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (received += text));
    const cut = new Promise<void>((resolve) => {
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    socket.write(
      `POST ${new URL(path).pathname}/xhr_send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    // Writes until the server cuts the connection: without a bound this would never end.
    const chunk = Buffer.concat([
      Buffer.from(`${CHUNK.length.toString(16)}\r\n`),
      CHUNK,
      Buffer.from('\r\n'),
    ]);
    let open = true;
    void cut.then(() => (open = false));
    while (open && written < 16 * DISCARD_LIMIT) {
      if (!socket.write(chunk))
        await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
      written += CHUNK.length;
    }
    await cut;
    socket.destroy();
    assert.ok(written < 16 * DISCARD_LIMIT, `the server read on: ${written} bytes`);
    assert.ok(written > DISCARD_LIMIT, `cut early, after ${written} bytes`);
    if (received !== '') assert.match(received, /^HTTP\/1\.1 413 /);
    await assertEchoes(path, 'after the cut');
  });

  it('is answered 408 when it stalls, and the body that arrives late is read before closing', async () => {
    const path = await openSession();
    const answer = await sendThenRead(
      server.port,
      `${new URL(path).pathname}/xhr_send`,
      // Chunked: a Content-Length past the limit would be answered 413 at once.
      true,
      'Request body timed out.',
    );
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.ok(answer.endsWith('\r\n\r\nRequest body timed out.'), answer);
    await assertEchoes(path, 'after the timeout');
  });
});

describe('a send body the client abandons', () => {
  let server: TestServer;
  let base: string;
  const logged: string[] = [];
  const messages: string[] = [];
  before(async () => {
    const service = sockjsMiddleware({
      bodyTimeout: 200,
      log: (_severity, message) => logged.push(message),
    });
    service.on('connection', (conn) =>
      conn.on('data', (m: string) => {
        messages.push(m);
        conn.write(m);
      }),
    );
    const app = express();
    app.use('/echo', service);
    server = await listen(app);
    base = `${server.url}/echo`;
  });
  after(() => server.close());

  it('is dropped when the connection goes mid-body: nothing delivered, no timeout later, the session lives on', async () => {
    const path = `${base}/000/${randomUUID()}`;
    assert.equal((await POST(`${path}/xhr`)).body, 'o\n');
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST ${new URL(path).pathname}/xhr_send HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n["cut sh`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await until(() => logged.includes('a send request was aborted by the client'), 2000, 'the abort noticed');
    // Past the stall timeout and a sweep: the abandoned body is no longer watched.
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(
      logged.filter((line) => line.includes('stalled') || line.includes('refused')),
      [],
    );
    assert.equal((await POST(`${path}/xhr_send`, { body: '["after the abort"]' })).status, 204);
    assert.equal((await POST(`${path}/xhr`)).body, 'a["after the abort"]\n');
    assert.deepEqual(messages, ['after the abort']);
  });
});
