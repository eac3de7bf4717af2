import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ReusedFrameBuffer } from '../lib/protocol/reused-frame-buffer';

/** A stream that keeps what is written to it until read: what a socket does under back-pressure. */
function backedUp(): PassThrough {
  const stream = new PassThrough({ highWaterMark: 1 });
  stream.write('x');
  return stream;
}

describe('ReusedFrameBuffer', () => {
  it('gives small and huge frames buffers of their own', () => {
    const reused = new ReusedFrameBuffer();
    for (const size of [1, 4095, 256 * 1024 + 1]) {
      const a = reused.take(size);
      reused.written(a, { writableLength: 0 });
      const b = reused.take(size);
      assert.equal(a.length, size);
      // Small ones may share Node's pool, but never the same bytes.
      assert.ok(a.buffer !== b.buffer || a.byteOffset + size <= b.byteOffset, `${size} bytes`);
    }
  });

  it('builds the next frame in the same memory once a stream took the last one whole', () => {
    const reused = new ReusedFrameBuffer();
    const a = reused.take(64 * 1024);
    reused.written(a, { writableLength: 0 });
    const b = reused.take(60 * 1024);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.byteOffset, a.byteOffset);
    assert.equal(b.length, 60 * 1024);
    // A larger frame gets a larger buffer, kept in turn.
    const c = reused.take(100 * 1024);
    assert.notEqual(c.buffer, a.buffer);
    reused.written(c, { writableLength: 0 });
    assert.equal(reused.take(70 * 1024).buffer, c.buffer);
  });

  it('leaves a frame to the stream that still holds it', () => {
    const reused = new ReusedFrameBuffer();
    const stream = backedUp();
    const a = reused.take(10_000).fill(0x61);
    stream.write(a);
    reused.written(a, stream);
    const b = reused.take(10_000).fill(0x62);
    assert.notEqual(b.buffer, a.buffer);
    stream.read(1);
    assert.equal(String(stream.read()), 'a'.repeat(10_000));
  });

  it('does not count a frame it did not make', () => {
    const reused = new ReusedFrameBuffer();
    const a = reused.take(10_000);
    reused.written(Buffer.alloc(10_000), backedUp());
    assert.equal(reused.take(10_000).buffer, a.buffer);
  });
});
