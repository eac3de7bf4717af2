/**
 * One buffer, kept for the process, that large outgoing websocket frames are built in and
 * written from, as long as every socket takes its frame whole into the kernel.
 *
 * A frame of 4 KiB or more is past Node's buffer pool: each one is its own allocation, and
 * a heap that glibc trims between messages hands the next one fresh pages, faulted in while
 * the frame is written. Measured on 64 KiB echoes (`npm run bench -- --scenario ws-64k`),
 * a process in that state spent most of its time in such page faults, a quarter of them in
 * the outgoing frame's buffer (docs/performance.md, "Mechanisms written here").
 */

/** Below this, `Buffer.allocUnsafe` takes the bytes from Node's pool (half its 8 KiB). */
const POOLED_BELOW = 4 * 1024;
/** Frames above this are allocated each time: the kept buffer never holds more. */
const KEPT_AT_MOST = 256 * 1024;
/** The kept buffer grows in steps of this, so that sizes close together share one. */
const STEP = 16 * 1024;

/** What is read of the stream a frame was written to. */
export interface WrittenTo {
  /** Bytes the stream still holds: 0 once everything written is in the kernel. */
  readonly writableLength: number;
}

export class ReusedFrameBuffer {
  #kept: Buffer | null = null;

  /**
   * A buffer of exactly `size` bytes for one frame, to be filled and written at once, then
   * reported with `written()` before any other frame is taken.
   */
  take(size: number): Buffer {
    if (size < POOLED_BELOW || size > KEPT_AT_MOST) return Buffer.allocUnsafe(size);
    let kept = this.#kept;
    if (kept === null || kept.length < size) {
      kept = Buffer.allocUnsafeSlow(Math.min(Math.ceil(size / STEP) * STEP, KEPT_AT_MOST));
      this.#kept = kept;
    }
    return kept.subarray(0, size);
  }

  /**
   * `frame` was written to `stream`. A stream that still holds bytes may hold the frame's,
   * so the kept buffer is left to it and the next large frame gets a new one.
   */
  written(frame: Buffer, stream: WrittenTo): void {
    const kept = this.#kept;
    if (kept !== null && frame.buffer === kept.buffer && stream.writableLength !== 0) this.#kept = null;
  }
}
