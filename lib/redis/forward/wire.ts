/**
 * The messages forwarding processes send each other, on the Redis channel of the process
 * each is for, as JSON with named fields (docs/scale-out.md, "The forwarding wire format").
 * A message is input like any request: decode() checks every field, reading own
 * properties only, before anything uses it.
 */
import { isNodeId } from '../node-id';

/** Ids a process gives its relays and forwarded sends: positive integers. */
type Id = number;

/** Every message names the process that sent it, `from`, which the receiver checks. */
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
  | { type: 'frame'; from: string; relay: Id; frame: string }
  /** Relayed request `relay` is over (its response ends). */
  | { type: 'end'; from: string; relay: Id }
  /** Relayed request `relay` is cut (its client is not reading). */
  | { type: 'destroy'; from: string; relay: Id }
  /** The session of relayed request `relay` is not held here (any more). */
  | { type: 'gone'; from: string; relay: Id }
  /** The answer to send `send`: whether its session took the messages. */
  | { type: 'ack'; from: string; send: Id; taken: boolean }
  /** Is anyone there? (PUBLISH says how many processes got it.) */
  | { type: 'ping'; from: string };

/**
 * The longest owner record key taken: a base URL and a session id, both from a URL that
 * Node's header limit (16 KiB) already bounds.
 */
export const MAX_SESSION_KEY = 16 * 1024;
/** Receiving transport names are short words (RECEIVING_FORMATS). */
const MAX_TRANSPORT = 32;
/** The htmlfile and jsonp callback rule of transports/callback.ts; '' for the other transports. */
const CALLBACK = /^[a-zA-Z0-9_.-]{0,32}$/;

export function encode(message: ForwardMessage): string {
  return JSON.stringify(message);
}

/** A parsed JSON object: only its own properties are read (never Object.prototype's). */
type Fields = Readonly<Record<string, unknown>>;

function field(fields: Fields, name: string): unknown {
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

function text(fields: Fields, name: string, maxLength: number): string | null {
  const value = field(fields, name);
  return typeof value === 'string' && value.length <= maxLength ? value : null;
}

function id(fields: Fields, name: string): Id | null {
  const value = field(fields, name);
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

function strings(value: unknown): readonly string[] | null {
  if (!Array.isArray(value)) return null;
  for (const item of value as unknown[]) if (typeof item !== 'string') return null;
  return value as string[];
}

function parseObject(raw: string): Fields | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: the caller counts it as malformed and goes on.
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  return parsed as Fields;
}

/** The message `raw` holds, or null when it is not a well-formed one. */
export function decode(raw: string): ForwardMessage | null {
  const fields = parseObject(raw);
  if (fields === null) return null;
  const from = field(fields, 'from');
  if (!isNodeId(from)) return null;
  const type = field(fields, 'type');
  switch (type) {
    case 'attach': {
      const session = text(fields, 'session', MAX_SESSION_KEY);
      const relay = id(fields, 'relay');
      const transport = text(fields, 'transport', MAX_TRANSPORT);
      const callback = text(fields, 'callback', 32);
      const limit = id(fields, 'limit');
      if (session === null || relay === null || transport === null || limit === null) return null;
      if (callback === null || !CALLBACK.test(callback)) return null;
      return { type, from, session, relay, transport, callback, limit };
    }
    case 'lost':
    case 'release':
    case 'end':
    case 'destroy':
    case 'gone': {
      const relay = id(fields, 'relay');
      return relay === null ? null : { type, from, relay };
    }
    case 'send': {
      const session = text(fields, 'session', MAX_SESSION_KEY);
      const send = id(fields, 'send');
      const messages = strings(field(fields, 'messages'));
      if (session === null || send === null || messages === null) return null;
      return { type, from, session, send, messages };
    }
    case 'frame': {
      const relay = id(fields, 'relay');
      const frame = text(fields, 'frame', Number.MAX_SAFE_INTEGER);
      return relay === null || frame === null ? null : { type, from, relay, frame };
    }
    case 'ack': {
      const send = id(fields, 'send');
      const taken = field(fields, 'taken');
      return send === null || typeof taken !== 'boolean' ? null : { type, from, send, taken };
    }
    case 'ping':
      return { type, from };
    default:
      return null;
  }
}
