/**
 * Failures the properties of spec/fuzz/ found, each kept as a plain test against the same
 * server: what was sent, and what went wrong before the fix.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { heldSession } from '../helpers/internals';
import { delay, until } from '../helpers/server';
import { POST, RawConnection, stream } from '../helpers/http';
import { FUZZ_DISCONNECT_MS, baseline, closeBed, openBed, socketsLeft, type Bed } from './bed';
import { connectionFor } from './clients';

let bed: Bed;

before(async () => {
  bed = await openBed();
});

after(() => closeBed(bed));

describe('counterexamples the properties found', () => {
  it('answers 400 to a request whose Transfer-Encoding does not end in chunked, before any stream opens', async () => {
    // Node hands such a request to its listener and then fails to parse it: the stream
    // opened for it died with the socket before its corked head was written, and the
    // client saw the connection close with no answer at all.
    const before = baseline(bed);
    for (const transport of ['eventsource', 'xhr_streaming', 'htmlfile?c=f', 'xhr']) {
      const sessionId = randomUUID();
      const conn = await RawConnection.connect(bed.url);
      try {
        const method = transport.startsWith('xhr') ? 'POST' : 'GET';
        conn.send(
          `${method} /echo/000/${sessionId}/${transport} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            'Transfer-Encoding: gzip\r\n\r\n',
        );
        const head = await conn.readHead();
        assert.equal(head.status, 400, transport);
        assert.equal(head.headers.connection, 'close', transport);
        assert.equal((await conn.readUntilClose()).toString(), 'Invalid Transfer-Encoding.', transport);
      } finally {
        conn.close();
      }
      assert.equal(heldSession(bed.services.echo, sessionId), undefined, `${transport}: session opened`);
    }
    const left = await socketsLeft(bed, before, 1000);
    assert.equal(left, 0, 'server sockets still open after the client closed');
  });

  it('still reads a chunked send body whose Transfer-Encoding lists another coding first', async () => {
    // `gzip, chunked` frames the body; only a list that does not end in chunked is refused.
    const sessionId = randomUUID();
    const opened = await POST(`${bed.url}/echo/000/${sessionId}/xhr`);
    assert.equal(opened.body, 'o\n');
    const conn = await RawConnection.connect(bed.url);
    try {
      const body = '["x"]';
      conn.send(
        `POST /echo/000/${sessionId}/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Transfer-Encoding: identity , Chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
      assert.equal((await conn.readHead()).status, 204);
    } finally {
      conn.close();
    }
    const polled = await POST(`${bed.url}/echo/000/${sessionId}/xhr`);
    assert.equal(polled.body, 'a["x"]\n');
    heldSession(bed.services.echo, sessionId)?.close(3000, 'Go away!');
  });

  it('closes the socket of an upgrade request it answered over HTTP, even when more bytes followed it', async () => {
    // An answer without a switch (here /info; the same for 400, 403, 404, 503) ends the
    // socket, but a client that sent 64 KiB or more after the request head leaves data
    // nobody reads: the server never sees the client's FIN and keeps the socket forever.
    const before = baseline(bed);
    const conn = await RawConnection.connect(bed.url);
    try {
      conn.send(
        'GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n' +
          'x'.repeat(100_000),
      );
      assert.equal((await conn.readHead()).status, 200);
    } finally {
      conn.close();
    }
    const left = await socketsLeft(bed, before, 2000);
    assert.equal(left, 0, 'server sockets still open after the client closed');
  });

  it('notices at once that a client aborted a receiving request whose body it never read', async () => {
    // Receiving requests do not read their body. One of 64 KiB or more (headers included)
    // fills the socket's buffers, Node stops reading the socket, and the client's FIN or
    // RST goes unseen until a write fails: the dead request stays attached for up to two
    // heartbeats (50 s by default), messages written meanwhile are lost, and the client's
    // next poll gets 2010 instead of the close of PROTOCOL.md section 6.5.
    const before = baseline(bed);
    const sessionId = randomUUID();
    const response = await stream('POST', `${bed.url}/abort/000/${sessionId}/xhr_streaming`, {
      body: Buffer.alloc(100_000, 0x61),
    });
    assert.equal(response.status, 200);
    const record = await connectionFor(bed, sessionId);
    response.close();
    try {
      await until(() => record.closes === 1, 1000, 'the close');
    } finally {
      bed.sessions.delete(sessionId);
    }
    const left = await socketsLeft(bed, before, 1000);
    assert.equal(left, 0, 'server sockets still open after the client closed');
  });

  it('lets a streaming session sent with upgrade headers end when its client goes away', async () => {
    // An xhr_streaming (or eventsource, htmlfile) request that carries `Connection:
    // Upgrade` goes through attachUpgrade: its response is never tied to the socket (no
    // head, no frame reaches the client), the client's abort is never noticed, and the
    // session stays open with its socket, beyond disconnectDelay, for good.
    const before = baseline(bed);
    const sessionId = randomUUID();
    const conn = await RawConnection.connect(bed.url);
    conn.sendRequest('POST', `/echo/000/${sessionId}/xhr_streaming`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
    });
    await delay(100);
    conn.close();
    await delay(FUZZ_DISCONNECT_MS + 300);
    const held = heldSession(bed.services.echo, sessionId) !== undefined;
    assert.ok(!held, `session still held (open connections: ${bed.services.echo.stats().connections})`);
    const left = await socketsLeft(bed, before, 1000);
    assert.equal(left, 0, 'server sockets still open after the client closed');
  });
});
