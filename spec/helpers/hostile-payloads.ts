/**
 * What a hostile client of Redis publishes on the brokers' channels, drawn from a seeded
 * generator: random bytes and JSON, odd values, objects that name `__proto__`,
 * `constructor` and `prototype`, forwarding messages with one field of the wrong type,
 * fake attaches from a made-up process and very long strings; with a secret also real
 * looking messages unsigned or badly signed, and replays of captured ones.
 */
import { SignedEnvelopes } from '../../lib/redis/envelope';
import { Signer } from '../../lib/redis/signing';

/** mulberry32: small, fast and the same on every platform for one seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  text(maxLength: number): string {
    const alphabet = 'ab/:.-_ "\\\n\u0000é😀{}[]';
    const chars = Array.from(alphabet);
    let out = '';
    for (let i = this.int(maxLength + 1); i > 0; i--) out += this.pick(chars);
    return out;
  }

  json(depth = 3): unknown {
    switch (this.int(depth > 0 ? 8 : 5)) {
      case 0:
        return null;
      case 1:
        return this.next() < 0.5;
      case 2:
        return this.pick([0, -1, 1.5, 2 ** 53 + 2, -(2 ** 60), 1e308, Number.MIN_VALUE, this.int(10)]);
      case 3:
        return this.text(12);
      case 4:
        return this.pick(HOSTILE_NAMES);
      case 5:
        return Array.from({ length: this.int(5) }, () => this.json(depth - 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) {
          const key = this.next() < 0.5 ? this.pick([...HOSTILE_NAMES, ...FIELD_NAMES]) : this.text(6);
          Object.defineProperty(object, key, {
            value: this.json(depth - 1),
            enumerable: true,
            configurable: true,
            writable: true,
          });
        }
        return object;
      }
    }
  }
}

const HOSTILE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const FIELD_NAMES = [
  'type',
  'from',
  'session',
  'relay',
  'transport',
  'callback',
  'limit',
  'send',
  'messages',
  'frame',
  'taken',
];
const TYPES = ['attach', 'lost', 'release', 'send', 'frame', 'end', 'destroy', 'gone', 'ack', 'ping'];
const TRANSPORTS = [
  'xhr-polling',
  'xhr-streaming',
  'eventsource',
  'htmlfile',
  'jsonp-polling',
  'websocket',
  '__proto__',
];
const ODDITIES = [
  'null',
  '[]',
  '[null]',
  '{}',
  '""',
  '"a string"',
  '1e309',
  '-0',
  'true',
  '9007199254740993',
  '',
  ' ',
  '\u0000',
  '{"type":"send"}',
  '{"type":"ping"}',
  'sjs1 ',
  `sjs1 1 1 a/1/00000000 ${'A'.repeat(43)}\n{}`,
  `sjs1 ${'9'.repeat(15)} ${'9'.repeat(15)} a/1/00000000 ${'-'.repeat(43)}\n`,
];

/** What the generator knows of the brokers it attacks. */
export interface Targets {
  /** A process id nobody runs. */
  readonly madeUp: string;
  /** The brokers' ids. */
  readonly nodes: readonly string[];
  /** Owner record keys of healthy sessions. */
  readonly victims: readonly string[];
  /** Messages captured on the brokers' channels, to replay (with a secret). */
  readonly captured: readonly { readonly channel: string; readonly message: string }[];
  /** With a secret: messages that would be taken if they were signed may be sent. */
  readonly signed: boolean;
}

/** Builds payloads; one instance per run, so that its forgeries have sequence numbers. */
export class HostilePayloads {
  private readonly forgers = new Map<string, SignedEnvelopes>();

  constructor(
    private readonly random: Random,
    private readonly targets: Targets,
  ) {}

  /** A payload for `channel`, and the channel to publish it on (a replay may move). */
  next(channel: string, channels: readonly string[]): { channel: string; payload: string | Buffer } {
    const random = this.random;
    const kinds = this.targets.signed ? 11 : 8;
    switch (random.int(kinds)) {
      case 0:
        return { channel, payload: random.bytes(1 + random.int(200)) };
      case 1:
        return { channel, payload: JSON.stringify(random.json()) ?? 'undefined' };
      case 2:
        return { channel, payload: random.pick(ODDITIES) };
      case 3:
        return { channel, payload: this.protoMessage() };
      case 4:
        return { channel, payload: JSON.stringify(this.wrongField()) };
      case 5:
        return { channel, payload: JSON.stringify(this.fakeAttach()) };
      case 6:
        return {
          channel,
          payload: random.next() < 0.2 ? 'x'.repeat(64 * 1024 + random.int(192 * 1024)) : random.text(2000),
        };
      case 7:
        return { channel, payload: JSON.stringify(this.lookingValid(this.targets.madeUp)) };
      // With a secret only: what a broker would send, unsigned, forged or replayed.
      case 8:
        return { channel, payload: JSON.stringify(this.lookingValid(random.pick(this.targets.nodes))) };
      case 9:
        return { channel, payload: this.forged(channel) };
      default: {
        const { captured } = this.targets;
        if (captured.length === 0) return { channel, payload: random.pick(ODDITIES) };
        const replay = random.pick(captured);
        return {
          channel: random.next() < 0.7 ? replay.channel : random.pick(channels),
          payload: replay.message,
        };
      }
    }
  }

  /** A session key: of a healthy session where the messages cannot be taken, else made up. */
  private session(): string {
    const { victims, signed } = this.targets;
    return signed && this.random.next() < 0.7
      ? this.random.pick(victims)
      : `x:session:/echo/${this.random.text(8)}`;
  }

  private template(type: string, from: string): Record<string, unknown> {
    const random = this.random;
    const relay = 1 + random.int(4);
    switch (type) {
      case 'attach':
        return {
          type,
          from,
          session: this.session(),
          relay,
          transport: random.pick(TRANSPORTS),
          callback: '',
          limit: 4096,
        };
      case 'send':
        return { type, from, session: this.session(), send: relay, messages: [random.text(10)] };
      case 'frame':
        return { type, from, relay, frame: `a${JSON.stringify([random.text(10)])}` };
      case 'ack':
        return { type, from, send: relay, taken: random.next() < 0.5 };
      case 'ping':
        return { type, from };
      default:
        return { type, from, relay };
    }
  }

  /** A message of every field right but its sender, which is `from`. */
  private lookingValid(from: string): Record<string, unknown> {
    return this.template(this.random.pick(TYPES), from);
  }

  private wrongField(): Record<string, unknown> {
    const message = this.template(this.random.pick(TYPES), this.targets.madeUp);
    const fields = Object.keys(message);
    const wrong = this.random.pick([
      null,
      0,
      -1,
      1.5,
      2 ** 60,
      [],
      {},
      ['x'],
      'x',
      '__proto__',
      true,
      'x'.repeat(70_000),
    ]);
    message[this.random.pick(fields)] = wrong;
    return message;
  }

  private fakeAttach(): Record<string, unknown> {
    return this.template('attach', this.targets.madeUp);
  }

  private protoMessage(): string {
    const type = this.random.pick([...TYPES, ...HOSTILE_NAMES]);
    const name = this.random.pick(HOSTILE_NAMES);
    const field = this.random.pick([...FIELD_NAMES, 'p']);
    return this.random.pick([
      `{"${name}":{"type":"${type}","from":"${this.targets.madeUp}"}}`,
      `{"type":"${type}","from":"${name}","${field}":"${name}"}`,
      `{"type":"${type}","p":"${name}","from":"${this.targets.madeUp}","session":"${name}","relay":1,"transport":"${name}","callback":"","limit":1,"messages":{"${name}":[]}}`,
      `{"type":"send","from":"${this.targets.madeUp}","session":"${name}","send":1,"messages":"${name}"}`,
    ]);
  }

  /** A real looking message signed with another secret, or with a random MAC. */
  private forged(channel: string): string {
    const from = this.random.pick(this.targets.nodes);
    const body = JSON.stringify(this.lookingValid(from));
    if (this.random.next() < 0.5) {
      let forger = this.forgers.get(from);
      if (forger === undefined) {
        forger = new SignedEnvelopes(new Signer('not the secret the brokers share'), from);
        this.forgers.set(from, forger);
      }
      return forger.seal(channel, body);
    }
    const mac = this.random.bytes(32).toString('base64url');
    return `sjs1 ${Date.now()} ${1 + this.random.int(1_000_000)} ${from} ${mac}\n${body}`;
  }
}
