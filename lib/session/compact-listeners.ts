import type { EventEmitter } from 'node:events';

/** What Node's EventEmitter keeps its listeners in (node:events, all supported versions). */
interface ListenerTable {
  _events?: unknown;
  _eventsCount?: unknown;
}

/** Inherits nothing, so a lookup of a name no listener has finds nothing, as in Node's table. */
const NO_LISTENERS: object = Object.create(null) as object;

/**
 * Gives an emitter that has no listeners yet a listener table of fixed shape. Node creates
 * the table with a null prototype, which V8 keeps as a hash table: about 130 bytes for up
 * to three event names and 225 past that, for every connection and every websocket a
 * server holds. An object inheriting from an empty null-prototype object looks names up
 * the same way but keeps its first four entries inside itself. Node's streams give their
 * emitters a fixed-shape table for the same reason. An emitter that already has listeners,
 * or whose table is not where Node keeps it, is left alone.
 */
export function compactListeners(emitter: EventEmitter): void {
  const table = emitter as unknown as ListenerTable;
  if (table._eventsCount !== 0 || typeof table._events !== 'object' || table._events === null) return;
  table._events = Object.create(NO_LISTENERS);
}
