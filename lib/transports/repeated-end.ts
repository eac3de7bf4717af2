import { Writable } from 'node:stream';
import type { WebSocket } from 'ws';

type End = (chunk?: unknown, encoding?: unknown, callback?: unknown) => Writable;

/**
 * `end()` with no arguments on a stream that is already over: Node answers it by building
 * an Error, stack trace and all, and dropping it. ws makes that call three times for every
 * websocket its peer closes (twice on its frame parser, once on the socket), which costs
 * about a tenth of a websocket session's whole setup and teardown. This answers exactly
 * those calls as Node does, minus the Error; every other call goes to the stream's own
 * `end()`.
 */
function endUnlessOver(this: Writable, chunk?: unknown, encoding?: unknown, callback?: unknown): Writable {
  if (
    chunk === undefined &&
    encoding === undefined &&
    callback === undefined &&
    this.writableCorked === 0 &&
    this.writableEnded &&
    (this.writableFinished || this.destroyed)
  ) {
    return this;
  }
  const inherited = (Object.getPrototypeOf(this) as { end: End }).end;
  return inherited.call(this, chunk, encoding, callback);
}

/** The frame parser ws keeps for each websocket; not part of its public API. */
function frameParser(ws: WebSocket): Writable | null {
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  return receiver instanceof Writable ? receiver : null;
}

/**
 * Spares a websocket's socket and frame parser the dropped Errors of repeated `end()`
 * calls. A later ws without the parser field only loses the saving.
 */
export function skipRepeatedEnds(ws: WebSocket, socket: Writable | null): void {
  const parser = frameParser(ws);
  if (parser !== null) (parser as unknown as { end: End }).end = endUnlessOver;
  if (socket !== null) (socket as unknown as { end: End }).end = endUnlessOver;
}

/** @internal For tests: whether `stream` has the repeated-end guard. */
export function skipsRepeatedEnds(stream: Writable): boolean {
  return (stream as unknown as { end: End }).end === endUnlessOver;
}

/** @internal For tests: the frame parser of `ws`, when this ws version has one where we look. */
export const frameParserOf = frameParser;
