/**
 * The messages forwarding processes send each other, on the Redis channel of the process
 * each is for, as JSON with named fields (docs/scale-out.md, "The forwarding wire format").
 * A message is input like any request: decode() checks every field before anything uses it.
 */

/** Ids a process gives its relays and forwarded sends: positive integers. */
type Id = number;

export type ForwardMessage =
  /** A process serves a receiving request for the session `session` holds: `relay` names it. */
  | {
      type: 'attach';
      from: string;
      session: string;
      relay: Id;
      transport: string;
      callback: string;
      limit: number;
    }
  /** The client of relayed request `relay` went away. */
  | { type: 'lost'; from: string; relay: Id }
  /** The process of relayed request `relay` hands it back (it is closing). */
  | { type: 'release'; from: string; relay: Id }
  /** A send request's messages for session `session`; `send` names it for the answer. */
  | { type: 'send'; from: string; session: string; send: Id; messages: readonly string[] }
  /** A frame for relayed request `relay`. */
  | { type: 'frame'; relay: Id; frame: string }
  /** Relayed request `relay` is over (its response ends). */
  | { type: 'end'; relay: Id }
  /** Relayed request `relay` is cut (its client is not reading). */
  | { type: 'destroy'; relay: Id }
  /** The session of relayed request `relay` is not held here (any more). */
  | { type: 'gone'; relay: Id }
  /** The answer to send `send`: whether its session took the messages. */
  | { type: 'ack'; send: Id; taken: boolean }
  /** Is anyone there? (PUBLISH says how many processes got it.) */
  | { type: 'ping' };

export function encode(message: ForwardMessage): string {
  return JSON.stringify(message);
}

type Fields = Record<string, unknown>;

function text(fields: Fields, name: string): string | null {
  const value = fields[name];
  return typeof value === 'string' ? value : null;
}

function id(fields: Fields, name: string): Id | null {
  const value = fields[name];
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

function strings(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  for (const item of value) if (typeof item !== 'string') return null;
  return value as string[];
}

/** The message `raw` holds, or null when it is not a well-formed one. */
export function decode(raw: string): ForwardMessage | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: the caller reports it and goes on.
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const fields = parsed as Fields;
  switch (fields.type) {
    case 'attach': {
      const from = text(fields, 'from');
      const session = text(fields, 'session');
      const relay = id(fields, 'relay');
      const transport = text(fields, 'transport');
      const callback = text(fields, 'callback');
      const limit = id(fields, 'limit');
      if (from === null || session === null || relay === null || transport === null) return null;
      if (callback === null || limit === null) return null;
      return { type: 'attach', from, session, relay, transport, callback, limit };
    }
    case 'lost':
    case 'release': {
      const from = text(fields, 'from');
      const relay = id(fields, 'relay');
      return from === null || relay === null ? null : { type: fields.type, from, relay };
    }
    case 'send': {
      const from = text(fields, 'from');
      const session = text(fields, 'session');
      const send = id(fields, 'send');
      const messages = strings(fields.messages);
      if (from === null || session === null || send === null || messages === null) return null;
      return { type: 'send', from, session, send, messages };
    }
    case 'frame': {
      const relay = id(fields, 'relay');
      const frame = text(fields, 'frame');
      return relay === null || frame === null ? null : { type: 'frame', relay, frame };
    }
    case 'end':
    case 'destroy':
    case 'gone': {
      const relay = id(fields, 'relay');
      return relay === null ? null : { type: fields.type, relay };
    }
    case 'ack': {
      const send = id(fields, 'send');
      const taken = fields.taken;
      return send === null || typeof taken !== 'boolean' ? null : { type: 'ack', send, taken };
    }
    case 'ping':
      return { type: 'ping' };
    default:
      return null;
  }
}
