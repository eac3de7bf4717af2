/**
 * Port of "Http 1.0 and 1.1 chunking" of sockjs-protocol 0.3.3, on raw sockets, plus
 * PROTOCOL.md section 7: keep-alive across requests with bodies, one chunk per frame.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { POST, RawConnection, splitUrl, type RawResponseHead } from '../helpers/http';
import { newSession } from '../helpers/protocol';

/** Reads a complete HTTP/1.1 body framed by Content-Length or chunked encoding. */
async function readBody(c: RawConnection, r: RawResponseHead): Promise<string> {
  if ((r.headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
    let body = '';
    for (;;) {
      const chunk = await c.readChunk();
      if (chunk === '') return body;
      body += chunk;
    }
  }
  const length = r.headers['content-length'];
  assert.ok(length !== undefined, 'expected Content-Length or chunked encoding');
  return c.read(Number(length));
}

describe('http details', () => {
  let server: ConformanceServer;
  let base: string;
  let closeBase: string;

  before(async () => {
    server = await startConformanceServer();
    base = `${server.url}/echo`;
    closeBase = `${server.url}/close`;
  });

  after(async () => {
    await server.close();
  });

  const pathOf = (url: string): string => splitUrl(url).path;

  describe('HTTP/1.0', () => {
    it('answers a plain request with Content-Length or by closing, never chunked', async () => {
      const c = await RawConnection.connect(base);
      try {
        // `Connection: Keep-Alive` is not HTTP/1.0, but HTTP/1.0 clients send it.
        const r = await c.request('GET', pathOf(base), {
          http: '1.0',
          headers: { Connection: 'Keep-Alive' },
        });
        assert.equal(r.status, 200);
        // The exact version of the response does not matter much.
        assert.ok(['1.0', '1.1'].includes(r.http), r.http);
        // Transfer-Encoding does not exist in HTTP/1.0.
        assert.equal(r.headers['transfer-encoding'], undefined);

        const length = r.headers['content-length'];
        if (length === undefined) {
          assert.equal((r.headers['connection'] ?? '').toLowerCase(), 'close');
          assert.equal((await c.readUntilClose()).toString('utf8'), 'Welcome to SockJS!\n');
          assert.ok(c.ended);
        } else {
          assert.equal(Number(length), 19);
          assert.equal(await c.read(19), 'Welcome to SockJS!\n');
          const connection = (r.headers['connection'] ?? '').toLowerCase();
          if (connection === 'close' || connection === '') {
            // Closing is the default in HTTP/1.0.
            assert.equal(await c.closedWithin(1000), true);
          } else {
            assert.equal(connection, 'keep-alive');
            // Then another request on the same connection must work.
            const r2 = await c.request('GET', pathOf(base), {
              http: '1.0',
              headers: { Connection: 'Keep-Alive' },
            });
            assert.equal(r2.status, 200);
          }
        }
      } finally {
        c.close();
      }
    });

    it('answers an xhr poll with Content-Length or by closing', async () => {
      const url = base + newSession();
      const c = await RawConnection.connect(url);
      try {
        const r = await c.request('POST', `${pathOf(url)}/xhr`, { http: '1.0' });
        assert.equal(r.status, 200);
        assert.equal(r.headers['transfer-encoding'], undefined);
        const length = r.headers['content-length'];
        if (length === undefined) {
          assert.equal((await c.readUntilClose()).toString('utf8'), 'o\n');
        } else {
          assert.equal(await c.read(Number(length)), 'o\n');
        }
      } finally {
        c.close();
      }
    });

    it('streams without chunking or Content-Length and closes the connection at the end', async () => {
      const url = closeBase + newSession();
      const c = await RawConnection.connect(url);
      try {
        const r = await c.request('POST', `${pathOf(url)}/xhr_streaming`, {
          http: '1.0',
          headers: { Connection: 'Keep-Alive' },
        });
        assert.equal(r.status, 200);
        // Transfer-Encoding does not exist in HTTP/1.0.
        assert.equal(r.headers['transfer-encoding'], undefined);
        // Content-Length is unknown for a stream.
        assert.equal(r.headers['content-length'], undefined);

        // As in "sends the application close frame", on the raw byte stream.
        assert.equal(await c.read(2048 + 1), 'h'.repeat(2048) + '\n');
        assert.equal(await c.read(2), 'o\n');
        assert.equal(await c.read(19), 'c[3000,"Go away!"]\n');
        assert.equal(await c.closedWithin(1000), true);
      } finally {
        c.close();
      }
    });

    it('streams echoed messages unframed by chunking', async () => {
      const url = base + newSession();
      const c = await RawConnection.connect(url);
      try {
        const r = await c.request('POST', `${pathOf(url)}/xhr_streaming`, { http: '1.0' });
        assert.equal(r.status, 200);
        assert.equal(r.headers['transfer-encoding'], undefined);
        assert.equal(r.headers['content-length'], undefined);
        assert.equal(await c.read(2049), 'h'.repeat(2048) + '\n');
        assert.equal(await c.read(2), 'o\n');
        assert.equal((await POST(`${url}/xhr_send`, { body: '["x"]' })).status, 204);
        assert.equal(await c.read(7), 'a["x"]\n');
      } finally {
        c.close();
      }
    });
  });

  describe('HTTP/1.1', () => {
    it('keeps the connection alive and frames plain bodies by length or chunks', async () => {
      const c = await RawConnection.connect(base);
      try {
        const r = await c.request('GET', pathOf(base), { headers: { Connection: 'Keep-Alive' } });
        assert.equal(r.http, '1.1');
        assert.equal(r.status, 200);
        // Keep-alive is the default in HTTP/1.1.
        assert.ok(
          ['keep-alive', ''].includes((r.headers['connection'] ?? '').toLowerCase()),
          "the server doesn't support Connection: Keep-Alive",
        );
        // Content-Length or Transfer-Encoding, not both.
        if (r.headers['content-length'] !== undefined) {
          assert.equal(Number(r.headers['content-length']), 19);
          assert.equal(await c.read(19), 'Welcome to SockJS!\n');
          assert.equal(r.headers['transfer-encoding'], undefined);
        } else {
          assert.equal((r.headers['transfer-encoding'] ?? '').toLowerCase(), 'chunked');
          assert.equal(await c.readChunk(), 'Welcome to SockJS!\n');
          assert.equal(await c.readChunk(), '');
        }
        // Another request on the same connection works.
        const r2 = await c.request('GET', pathOf(base), { headers: { Connection: 'Keep-Alive' } });
        assert.equal(r2.status, 200);
        assert.equal(await readBody(c, r2), 'Welcome to SockJS!\n');
      } finally {
        c.close();
      }
    });

    it('streams with chunked encoding, one chunk per frame, ending with the last chunk', async () => {
      const url = closeBase + newSession();
      const c = await RawConnection.connect(url);
      try {
        const r = await c.request('POST', `${pathOf(url)}/xhr_streaming`, {
          headers: { Connection: 'Keep-Alive' },
        });
        assert.equal(r.status, 200);
        // Chunked encoding is required for a stream in HTTP/1.1.
        assert.equal((r.headers['transfer-encoding'] ?? '').toLowerCase(), 'chunked');
        // Content-Length is not allowed.
        assert.equal(r.headers['content-length'], undefined);

        assert.equal(await c.readChunk(), 'h'.repeat(2048) + '\n'); // prelude
        assert.equal(await c.readChunk(), 'o\n');
        assert.equal(await c.readChunk(), 'c[3000,"Go away!"]\n');
        assert.equal(await c.readChunk(), '');
      } finally {
        c.close();
      }
    });

    it('serves a session conversation over one keep-alive connection, errors included', async () => {
      const url = base + newSession();
      const path = pathOf(url);
      const c = await RawConnection.connect(url);
      try {
        let r = await c.request('POST', `${path}/xhr`);
        assert.equal(r.status, 200);
        assert.equal(await readBody(c, r), 'o\n');

        r = await c.request('POST', `${path}/xhr_send`, { body: '["x' });
        assert.equal(r.status, 500);
        assert.equal(await readBody(c, r), 'Broken JSON encoding.');

        r = await c.request('POST', `${path}/xhr_send`, { body: '["a","b"]' });
        assert.equal(r.status, 204);
        // A 204 has no body at all.

        r = await c.request('POST', `${path}/xhr_send`, { body: '["c"]' });
        assert.equal(r.status, 204);

        r = await c.request('POST', `${path}/xhr`);
        assert.equal(r.status, 200);
        assert.equal(await readBody(c, r), 'a["a","b","c"]\n');

        r = await c.request('GET', `${pathOf(base)}/info`);
        assert.equal(r.status, 200);
        assert.ok((await readBody(c, r)).startsWith('{'));
        assert.equal(c.pending, 0, 'nothing unexpected was sent');
      } finally {
        c.close();
      }
    });
  });
});
