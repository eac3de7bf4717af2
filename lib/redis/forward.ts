import type { SessionRelay, SockjsService } from '../service';
import type { Session } from '../session/session';
import type { SessionRequest } from '../transports/context';
import type { ConnectionProtocol, Receiver, ReceiverOwner } from '../transports/receiver';
import type { ResponseFormat, ResponseReceiver } from '../transports/response-receiver';
import { responseReceiver } from '../transports/receive';
import { xhrPollingFormat, xhrStreamingFormat } from '../transports/xhr';
import { eventsourceFormat } from '../transports/eventsource';
import { htmlfileFormat } from '../transports/htmlfile';
import { jsonpFormat } from '../transports/jsonp';
import { INTERRUPTED_FRAME } from '../protocol/frames';
import type { LogFunction } from '../options';

/** The formats a relayed receiving request may use, by protocol name. */
const FORMATS: Readonly<Partial<Record<ConnectionProtocol, ResponseFormat>>> = {
  'xhr-polling': xhrPollingFormat,
  'xhr-streaming': xhrStreamingFormat,
  eventsource: eventsourceFormat,
  htmlfile: htmlfileFormat,
  'jsonp-polling': jsonpFormat,
};

/**
 * Messages between processes, on the channel of the process they are for. `n` is the
 * sender's process id, `r` a relay (one receiving request served for another process),
 * `q` a forwarded send request.
 */
type Envelope =
  | {
      t: 'attach';
      n: string;
      k: string;
      r: number;
      p: ConnectionProtocol;
      c: string;
      l: number;
    }
  | { t: 'lost'; n: string; r: number }
  | { t: 'release'; n: string; r: number }
  | { t: 'send'; n: string; k: string; q: number; m: readonly string[] }
  | { t: 'frame'; r: number; f: string }
  | { t: 'end'; r: number }
  | { t: 'destroy'; r: number }
  | { t: 'gone'; r: number }
  | { t: 'ack'; q: number; ok: boolean }
  | { t: 'ping' };

/** What the forwarder needs from its broker: Redis, and its own identity. */
export interface ForwardHost {
  /** This process's id; its channel is `nodeChannel(id)`. */
  readonly id: string;
  readonly ownerTtl: number;
  readonly forwardTimeout: number;
  readonly log: LogFunction;
  nodeChannel(node: string): string;
  sessionKey(prefix: string, sessionId: string): string;
  /** PUBLISH; resolves with the number of subscribers (processes) that got it. */
  send(channel: string, message: string): Promise<number>;
  command(args: string[]): Promise<unknown>;
}

/** Sets the key to us unless it is set; returns the owner it had (nil when we took it). */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

/** Replaces owner ARGV[1] with ARGV[2]; returns the owner it now has. */
const TAKE_OVER = `local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

/** Deletes the key only while it still names us. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** How often owners of relayed requests are checked, and silent relays looked for. */
const TICK_MS = 1000;
/** How long a looked-up owner is remembered. */
const OWNER_CACHE_MS = 5000;
/** Attempts to find a live owner for one receiving request before serving it here. */
const MAX_HOPS = 3;

function failure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the requests of sessions held by other processes through Redis: the process that
 * opened a session owns it (a key with a TTL names it); any other process that gets one
 * of its requests forwards sends to it and relays its frames to the receiving request.
 * With it, a balancer need not be sticky.
 */
export class Forwarder implements SessionRelay {
  /** Sessions this process owns, by key, with their service. */
  private readonly owned = new Map<string, SockjsService>();
  /** Receivers here for requests other processes serve, by `node/relay`. */
  private readonly remotes = new Map<string, RemoteReceiver>();
  /** Requests served here for sessions other processes own, by relay id. */
  private readonly relays = new Map<number, Relay>();
  private readonly pendingSends = new Map<number, PendingSend>();
  private readonly owners = new Map<string, { node: string; until: number }>();
  private nextId = 0;
  private readonly timer: NodeJS.Timeout;
  private lastRefresh = Date.now();
  private closed = false;

  constructor(private readonly host: ForwardHost) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  // ---- the SessionRelay hook ---------------------------------------------------------------

  receive(
    request: SessionRequest,
    format: ResponseFormat,
    streaming: boolean,
    callback: string,
    here: () => void,
  ): void {
    if (this.closed) {
      here();
      return;
    }
    const key = this.host.sessionKey(request.prefix, request.sessionId);
    const cached = this.cachedOwner(key);
    const limit = streaming ? request.service.options.responseLimit : 1;
    if (cached !== null && cached !== this.host.id) {
      const receiver = responseReceiver(request, format, streaming, callback);
      this.relay(cached, key, request, receiver, { callback, limit, hops: 0 });
      return;
    }
    this.host.command(['EVAL', CLAIM, '1', key, this.host.id, String(this.host.ownerTtl)]).then(
      (owner) => {
        if (typeof owner !== 'string' || owner === this.host.id) {
          here();
          this.owning(key, request);
        } else {
          this.remember(key, owner);
          const receiver = responseReceiver(request, format, streaming, callback);
          this.relay(owner, key, request, receiver, { callback, limit, hops: 0 });
        }
      },
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: session owner lookup failed: ${failure(error)}`);
        here();
      },
    );
  }

  send(request: SessionRequest, messages: readonly string[], answer: () => void, notFound: () => void): void {
    if (this.closed) {
      notFound();
      return;
    }
    const key = this.host.sessionKey(request.prefix, request.sessionId);
    const cached = this.cachedOwner(key);
    const lookup: Promise<unknown> =
      cached !== null ? Promise.resolve(cached) : this.host.command(['GET', key]);
    lookup.then(
      (owner) => {
        if (typeof owner !== 'string' || owner === this.host.id) {
          notFound();
          return;
        }
        this.remember(key, owner);
        this.forwardSend(owner, key, messages, answer, notFound);
      },
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: session owner lookup failed: ${failure(error)}`);
        notFound();
      },
    );
  }

  forgotten(session: Session): void {
    if (session.id === null) return;
    const key = this.host.sessionKey(session.connection.prefix, session.id);
    if (!this.owned.delete(key)) return;
    this.host.command(['EVAL', RELEASE, '1', key, this.host.id]).catch((error: unknown) => {
      this.host.log('debug', `sockjs-express/redis: could not release ${key}: ${failure(error)}`);
    });
  }

  // ---- messages from other processes -------------------------------------------------------

  /** A message on this process's channel. */
  handle(text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      // Only brokers write to this channel; anything else is noise to report and skip.
      this.host.log('debug', 'sockjs-express/redis: ignored a message that is not JSON');
      return;
    }
    switch (envelope.t) {
      case 'attach':
        this.attachRemote(envelope);
        break;
      case 'lost':
        this.remotes.get(envelope.n + '/' + envelope.r)?.lost();
        break;
      case 'release':
        this.remotes.get(envelope.n + '/' + envelope.r)?.end();
        break;
      case 'send':
        this.deliverSend(envelope);
        break;
      case 'frame': {
        const relay = this.relays.get(envelope.r);
        if (relay !== undefined) {
          relay.lastSeen = Date.now();
          relay.receiver.sendFrame(envelope.f);
        }
        break;
      }
      case 'end':
        this.relays.get(envelope.r)?.receiver.end();
        break;
      case 'destroy': {
        const relay = this.relays.get(envelope.r);
        if (relay !== undefined) {
          this.relays.delete(relay.id);
          relay.receiver.owner = null;
          relay.receiver.destroy();
        }
        break;
      }
      case 'gone': {
        const relay = this.relays.get(envelope.r);
        if (relay !== undefined) this.ownerGone(relay);
        break;
      }
      case 'ack': {
        const pending = this.pendingSends.get(envelope.q);
        if (pending !== undefined) pending.settle(envelope.ok);
        break;
      }
      case 'ping':
        break;
      default:
        this.host.log('debug', 'sockjs-express/redis: ignored a message of an unknown type');
    }
  }

  // ---- serving for the owner ---------------------------------------------------------------

  /**
   * Serves a receiving request for `owner`: the response is ours, the frames come from the
   * owner's session. A dead owner (no process got the message) or one that no longer holds
   * the session is replaced by this process.
   */
  private relay(
    owner: string,
    key: string,
    request: SessionRequest,
    receiver: ResponseReceiver,
    shape: RelayShape,
  ): void {
    const id = ++this.nextId;
    const relay = new Relay(this, id, owner, key, request, receiver, shape);
    this.relays.set(id, relay);
    receiver.owner = relay;
    const envelope: Envelope = {
      t: 'attach',
      n: this.host.id,
      k: key,
      r: id,
      p: receiver.protocol,
      c: shape.callback,
      l: shape.limit,
    };
    this.toNode(owner, envelope).then((reached) => {
      if (reached === 0 && this.relays.get(id) === relay) this.ownerGone(relay);
    });
  }

  /** The relay's owner is dead or lost the session: take the session over, or find its new owner. */
  private ownerGone(relay: Relay): void {
    this.relays.delete(relay.id);
    this.owners.delete(relay.key);
    const receiver = relay.receiver;
    receiver.owner = null;
    if (receiver.ended) return;
    const args = ['EVAL', TAKE_OVER, '1', relay.key, relay.owner, this.host.id, String(this.host.ownerTtl)];
    this.host.command(args).then(
      (owner) => {
        if (receiver.ended) return;
        if (owner === this.host.id) {
          // A new session here: the client hears `o` again and knows its session is gone.
          const session = relay.request.service.sessionFor(relay.request);
          if (session === null) return;
          this.owning(relay.key, relay.request);
          session.attach(receiver);
        } else if (typeof owner === 'string' && relay.shape.hops + 1 < MAX_HOPS) {
          this.remember(relay.key, owner);
          const shape = { ...relay.shape, hops: relay.shape.hops + 1 };
          this.relay(owner, relay.key, relay.request, receiver, shape);
        } else {
          interrupt(receiver);
        }
      },
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: session take-over failed: ${failure(error)}`);
        interrupt(receiver);
      },
    );
  }

  /** @internal The client of a relayed request went away: its session is told, as locally. */
  relayLost(relay: Relay): void {
    if (this.relays.get(relay.id) !== relay) return;
    this.relays.delete(relay.id);
    void this.toNode(relay.owner, { t: 'lost', n: this.host.id, r: relay.id });
  }

  /** @internal A relayed response is over (its owner ended it, or its byte budget is spent). */
  relayDone(relay: Relay): void {
    if (this.relays.get(relay.id) === relay) this.relays.delete(relay.id);
  }

  private forwardSend(
    owner: string,
    key: string,
    messages: readonly string[],
    answer: () => void,
    notFound: () => void,
  ): void {
    const id = ++this.nextId;
    const pending = new PendingSend(owner, this.host.forwardTimeout, (ok) => {
      this.pendingSends.delete(id);
      if (ok) {
        answer();
      } else {
        this.owners.delete(key);
        notFound();
      }
    });
    this.pendingSends.set(id, pending);
    void this.toNode(owner, { t: 'send', n: this.host.id, k: key, q: id, m: messages }).then((reached) => {
      if (reached === 0) pending.settle(false);
    });
  }

  // ---- the owner's side --------------------------------------------------------------------

  /** Records that this process holds the session of `request`, if it does now. */
  private owning(key: string, request: SessionRequest): void {
    if (request.service.sessions.get(request.sessionId) !== undefined) {
      this.owned.set(key, request.service);
    } else {
      // Nothing was opened here (503, or the request is gone): the claim goes back.
      void this.host.command(['EVAL', RELEASE, '1', key, this.host.id]).catch(() => undefined);
    }
  }

  private sessionOf(key: string): Session | undefined {
    const service = this.owned.get(key);
    return service?.sessions.get(key.slice(key.lastIndexOf('/') + 1));
  }

  private attachRemote(envelope: Extract<Envelope, { t: 'attach' }>): void {
    const session = this.sessionOf(envelope.k);
    const format = FORMATS[envelope.p];
    if (session === undefined || format === undefined || this.closed) {
      void this.toNode(envelope.n, { t: 'gone', r: envelope.r });
      return;
    }
    const remote = new RemoteReceiver(this, envelope.n, envelope.r, format, envelope.l, envelope.c);
    this.remotes.set(remote.name, remote);
    session.attach(remote);
  }

  private deliverSend(envelope: Extract<Envelope, { t: 'send' }>): void {
    const session = this.sessionOf(envelope.k);
    if (session !== undefined) session.didMessages(envelope.m);
    void this.toNode(envelope.n, { t: 'ack', q: envelope.q, ok: session !== undefined });
  }

  /** @internal */
  remoteGone(remote: RemoteReceiver): void {
    if (this.remotes.get(remote.name) === remote) this.remotes.delete(remote.name);
  }

  /** @internal Publishes to another process; resolves with how many got it (0 on failure). */
  toNode(node: string, envelope: Envelope): Promise<number> {
    return this.host.send(this.host.nodeChannel(node), JSON.stringify(envelope)).then(
      (reached) => reached,
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: publishing to ${node} failed: ${failure(error)}`);
        return 0;
      },
    );
  }

  // ---- housekeeping ------------------------------------------------------------------------

  private cachedOwner(key: string): string | null {
    const entry = this.owners.get(key);
    if (entry === undefined) return null;
    if (entry.until < Date.now()) {
      this.owners.delete(key);
      return null;
    }
    return entry.node;
  }

  private remember(key: string, node: string): void {
    this.owners.set(key, { node, until: Date.now() + OWNER_CACHE_MS });
  }

  /**
   * Once a second: owners of relayed requests are pinged (a dead one has no subscriber,
   * and its relays are interrupted), relays silent for two heartbeats are interrupted,
   * and the keys of owned sessions are renewed every third of their TTL.
   */
  private tick(): void {
    const now = Date.now();
    const byOwner = new Map<string, Relay[]>();
    for (const relay of this.relays.values()) {
      const silentFor = now - relay.lastSeen;
      if (silentFor > 2 * relay.request.service.heartbeatDelay + TICK_MS) {
        this.host.log('info', `sockjs-express/redis: a relayed request heard nothing for ${silentFor} ms`);
        this.relays.delete(relay.id);
        interrupt(relay.receiver);
        continue;
      }
      const list = byOwner.get(relay.owner);
      if (list === undefined) byOwner.set(relay.owner, [relay]);
      else list.push(relay);
    }
    for (const pending of this.pendingSends.values()) {
      if (!byOwner.has(pending.owner)) byOwner.set(pending.owner, []);
    }
    for (const [owner, relays] of byOwner) {
      void this.toNode(owner, { t: 'ping' }).then((reached) => {
        if (reached !== 0) return;
        this.host.log('info', `sockjs-express/redis: process ${owner} is gone`);
        for (const relay of relays) {
          if (this.relays.get(relay.id) !== relay) continue;
          this.relays.delete(relay.id);
          interrupt(relay.receiver);
        }
        for (const pending of this.pendingSends.values()) if (pending.owner === owner) pending.settle(false);
        for (const [key, entry] of this.owners) if (entry.node === owner) this.owners.delete(key);
      });
    }
    for (const [key, entry] of this.owners) if (entry.until < now) this.owners.delete(key);
    if (now - this.lastRefresh >= this.host.ownerTtl / 3) {
      this.lastRefresh = now;
      this.refresh();
    }
  }

  private refresh(): void {
    const ttl = String(this.host.ownerTtl);
    for (const key of this.owned.keys()) {
      if (this.sessionOf(key) === undefined) {
        this.owned.delete(key);
        continue;
      }
      this.host.command(['PEXPIRE', key, ttl]).catch((error: unknown) => {
        this.host.log('error', `sockjs-express/redis: could not renew ${key}: ${failure(error)}`);
      });
    }
  }

  /**
   * Stops forwarding. Relayed responses are handed back: their owners end them after the
   * frames already on their way (the clients poll again, elsewhere), or they are ended
   * after `graceMs`. Remote receivers end; owned keys are released.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const relay of this.relays.values()) {
      void this.toNode(relay.owner, { t: 'release', n: this.host.id, r: relay.id });
    }
    const deadline = Date.now() + graceMs;
    while (this.relays.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const relay of [...this.relays.values()]) relay.receiver.end();
    this.relays.clear();
    for (const remote of [...this.remotes.values()]) remote.end();
    for (const pending of [...this.pendingSends.values()]) pending.settle(false);
    const keys = [...this.owned.keys()];
    this.owned.clear();
    await Promise.all(
      keys.map((key) => this.host.command(['EVAL', RELEASE, '1', key, this.host.id]).catch(() => undefined)),
    );
  }
}

/** Ends a relayed response with the frame of a session cut by the network. */
function interrupt(receiver: ResponseReceiver): void {
  receiver.owner = null;
  if (receiver.ended) return;
  receiver.sendFrame(INTERRUPTED_FRAME);
  receiver.end();
}

/** How a relayed response frames its data, and how often it has been handed on. */
interface RelayShape {
  /** htmlfile and jsonp callback name. */
  readonly callback: string;
  /** The response's byte budget (1 for polling). */
  readonly limit: number;
  readonly hops: number;
}

/** A receiving request served here for a session another process owns. */
class Relay implements ReceiverOwner {
  lastSeen = Date.now();

  constructor(
    private readonly forwarder: Forwarder,
    readonly id: number,
    readonly owner: string,
    readonly key: string,
    readonly request: SessionRequest,
    readonly receiver: ResponseReceiver,
    readonly shape: RelayShape,
  ) {}

  receiverDone(): void {
    this.forwarder.relayDone(this);
  }

  receiverLost(): void {
    this.forwarder.relayLost(this);
  }
}

/** A forwarded send waiting for the owner's acknowledgement. */
class PendingSend {
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly owner: string,
    timeout: number,
    private readonly done: (ok: boolean) => void,
  ) {
    this.timer = setTimeout(() => this.settle(false), timeout);
    this.timer.unref();
  }

  settle(ok: boolean): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.done(ok);
  }
}

/**
 * The owner's side of a relayed request: a receiver whose frames go to the process that
 * holds the response. It spends the same byte budget as that response, so both sides end
 * it after the same frame.
 */
class RemoteReceiver implements Receiver {
  readonly req = null;
  readonly socket = null;
  readonly protocol: ConnectionProtocol;
  owner: ReceiverOwner | null = null;
  ended = false;
  readonly name: string;
  private budget: number;

  constructor(
    private readonly forwarder: Forwarder,
    private readonly node: string,
    private readonly relay: number,
    private readonly format: ResponseFormat,
    limit: number,
    private readonly callback: string,
  ) {
    this.protocol = format.protocol;
    this.budget = limit;
    this.name = node + '/' + relay;
  }

  sendFrame(frame: string): void {
    if (this.ended) return;
    this.budget -= Buffer.byteLength(this.format.frame(frame, this.callback));
    this.forward({ t: 'frame', r: this.relay, f: frame });
    if (this.budget <= 0) this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.forwarder.remoteGone(this);
    this.forward({ t: 'end', r: this.relay });
    const owner = this.owner;
    if (owner !== null) owner.receiverDone(this);
  }

  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.forwarder.remoteGone(this);
    this.forward({ t: 'destroy', r: this.relay });
  }

  /** The client of the relayed request went away, or its process did. */
  lost(): void {
    if (this.ended) return;
    this.ended = true;
    this.forwarder.remoteGone(this);
    const owner = this.owner;
    if (owner !== null) owner.receiverLost(this);
  }

  private forward(envelope: Envelope): void {
    void this.forwarder.toNode(this.node, envelope).then((reached) => {
      if (reached === 0) this.lost();
    });
  }
}
