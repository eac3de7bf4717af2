/**
 * Port of "Handling close" of sockjs-protocol 0.3.3 (close frames, 2010, aborted
 * receivers), plus the session life cycle of PROTOCOL.md section 6 with short timings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startConformanceServer, type ConformanceServer } from '../helpers/conformance';
import { delay, fireAndHold, GET, POST, stream } from '../helpers/http';
import { newSession } from '../helpers/protocol';

const PRELUDE = 'h'.repeat(2048) + '\n';
const INTERRUPTED_OR_NEW = ['o\n', 'c[1002,"Connection interrupted"]\n'];

describe('handling close', () => {
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

  it('sends the application close frame to the receiver, ends it, and repeats it to the next', async () => {
    const url = closeBase + newSession();
    const r1 = await stream('POST', `${url}/xhr_streaming`);
    try {
      assert.equal(await r1.read(), PRELUDE);
      assert.equal(await r1.read(), 'o\n');
      assert.equal(await r1.read(), 'c[3000,"Go away!"]\n');

      const r2 = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(await r2.read(), PRELUDE);
        // A new request gets the application close frame, not 2010.
        assert.equal(await r2.read(), 'c[3000,"Go away!"]\n');
        // Streaming responses end after a close frame.
        assert.equal(await r1.read(), null);
        assert.equal(await r2.read(), null);
      } finally {
        r2.close();
      }
    } finally {
      r1.close();
    }
  });

  it('refuses a second concurrent receiver with 2010 and ends it, while the first keeps working', async () => {
    const url = base + newSession();
    const r1 = await stream('POST', `${url}/xhr_streaming`);
    try {
      assert.equal(await r1.read(), PRELUDE);
      assert.equal(await r1.read(), 'o\n');

      const r2 = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(await r2.read(), PRELUDE);
        assert.equal(await r2.read(), 'c[2010,"Another connection still open"]\n');
        // Streaming responses end after a close frame.
        assert.equal(await r2.read(), null);
      } finally {
        r2.close();
      }

      const sent = await POST(`${url}/xhr_send`, { body: '["still mine"]' });
      assert.equal(sent.status, 204);
      assert.equal(await r1.read(), 'a["still mine"]\n');
    } finally {
      r1.close();
    }
  });

  it('gives 2010 to a second polling receiver across transports', async () => {
    const url = base + newSession();
    const r1 = await stream('GET', `${url}/eventsource`);
    try {
      assert.equal(await r1.read(), '\r\n');
      assert.equal(await r1.read(), 'data: o\r\n\r\n');
      const r2 = await POST(`${url}/xhr`);
      assert.equal(r2.status, 200);
      assert.equal(r2.body, 'c[2010,"Another connection still open"]\n');
      const r3 = await GET(`${url}/jsonp?c=x`);
      assert.equal(r3.body, '/**/x("c[2010,\\"Another connection still open\\"]");\r\n');
    } finally {
      r1.close();
    }
  });

  it('closes the session when a streaming receiver is aborted', async () => {
    const url = base + newSession();
    const r1 = await stream('POST', `${url}/xhr_streaming`);
    try {
      assert.equal(await r1.read(), PRELUDE);
      assert.equal(await r1.read(), 'o\n');

      // No second receiver while the first one is open.
      const r2 = await stream('POST', `${url}/xhr_streaming`);
      try {
        assert.equal(await r2.read(), PRELUDE);
        assert.equal(await r2.read(), 'c[2010,"Another connection still open"]\n');
        assert.equal(await r2.read(), null);
      } finally {
        r2.close();
      }
    } finally {
      r1.close();
    }
    await delay(100); // let the server see the abort

    // After the abort the session is closed: either forgotten (a new one opens) or
    // reported as interrupted.
    const r3 = await stream('POST', `${url}/xhr_streaming`);
    try {
      assert.equal(await r3.read(), PRELUDE);
      const frame = await r3.read();
      assert.ok(frame !== null && INTERRUPTED_OR_NEW.includes(frame), JSON.stringify(frame));
    } finally {
      r3.close();
    }
  });

  it('closes the session when a polling receiver is aborted', async () => {
    const url = base + newSession();
    const opened = await POST(`${url}/xhr`);
    assert.equal(opened.body, 'o\n');

    const r1 = await fireAndHold('POST', `${url}/xhr`);
    try {
      await delay(100); // let the poll reach the server
      // No second polling request now.
      const r2 = await POST(`${url}/xhr`);
      assert.equal(r2.body, 'c[2010,"Another connection still open"]\n');
    } finally {
      r1.close();
    }
    await delay(100); // let the server see the abort

    const r3 = await POST(`${url}/xhr`);
    assert.ok(INTERRUPTED_OR_NEW.includes(r3.body), JSON.stringify(r3.body));
  });

  it('closes the session when an eventsource receiver is aborted', async () => {
    const url = base + newSession();
    const r1 = await stream('GET', `${url}/eventsource`);
    try {
      assert.equal(await r1.read(), '\r\n');
      assert.equal(await r1.read(), 'data: o\r\n\r\n');
    } finally {
      r1.close();
    }
    await delay(100); // let the server see the abort

    const r2 = await POST(`${url}/xhr`);
    assert.ok(INTERRUPTED_OR_NEW.includes(r2.body), JSON.stringify(r2.body));
  });
});

describe('session life cycle', () => {
  let server: ConformanceServer;
  let base: string;
  let closeBase: string;

  before(async () => {
    server = await startConformanceServer({ heartbeatDelay: 200, disconnectDelay: 300 });
    base = `${server.url}/echo`;
    closeBase = `${server.url}/close`;
  });

  after(async () => {
    await server.close();
  });

  it('expires a session after disconnectDelay without a receiver', async () => {
    const url = base + newSession();
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
    await delay(800);
    const sent = await POST(`${url}/xhr_send`, { body: '["late"]' });
    assert.equal(sent.status, 404);
    const r = await POST(`${url}/xhr`);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'o\n');
  });

  it('keeps a session alive between polls shorter than disconnectDelay', async () => {
    const url = base + newSession();
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
    for (let i = 0; i < 4; i++) {
      await delay(150);
      assert.equal((await POST(`${url}/xhr_send`, { body: `["${i}"]` })).status, 204);
      assert.equal((await POST(`${url}/xhr`)).body, `a["${i}"]\n`);
    }
  });

  it('keeps a session alive while a receiver is attached, however long', async () => {
    const url = base + newSession();
    const r = await stream('POST', `${url}/xhr_streaming`);
    try {
      assert.equal(await r.read(), PRELUDE);
      assert.equal(await r.read(), 'o\n');
      // Longer than disconnectDelay; heartbeats flow meanwhile.
      assert.equal(await r.read(), 'h\n');
      assert.equal(await r.read(), 'h\n');
      assert.equal(await r.read(), 'h\n');
      assert.equal((await POST(`${url}/xhr_send`, { body: '["alive"]' })).status, 204);
      // A heartbeat may be in flight before the message.
      let frame = await r.read();
      if (frame === 'h\n') frame = await r.read();
      assert.equal(frame, 'a["alive"]\n');
    } finally {
      r.close();
    }
  });

  it('forgets a closed session after disconnectDelay', async () => {
    const url = closeBase + newSession();
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
    assert.equal((await POST(`${url}/xhr`)).body, 'c[3000,"Go away!"]\n');
    assert.equal((await POST(`${url}/xhr`)).body, 'c[3000,"Go away!"]\n');
    await delay(800);
    // The id now names a brand new session (which the close service closes again).
    assert.equal((await POST(`${url}/xhr`)).body, 'o\n');
  });

  it('does not answer a send to an expired session', async () => {
    const url = base + newSession();
    assert.equal((await GET(`${url}/jsonp?c=x`)).body, '/**/x("o");\r\n');
    await delay(800);
    const r = await POST(`${url}/jsonp_send`, {
      body: 'd=%5B%22x%22%5D',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 404);
  });
});
