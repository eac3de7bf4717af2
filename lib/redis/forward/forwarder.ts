import type { LogFunction } from '../../options';
import type { DropLog } from '../drops';
import type { Session } from '../../session/session';
import type { RemoteSession, SessionRelay } from '../../session/lookup';
import { RECEIVING_FORMATS } from '../../transports/table';
import { OwnerRecords, type OwnerStore } from './owners';
import { PendingSend, Relay, RemoteHolder, interrupt, type RelayHost, type RelayedReceiver } from './relay';
import { RemoteReceiver, type RemoteLink } from './remote-receiver';
import { decode, encode, type ForwardMessage } from './wire';

/** What the forwarder needs from its broker: Redis, and its own identity. */
export interface ForwardHost extends OwnerStore {
  readonly forwardTimeout: number;
  readonly log: LogFunction;
  /** Counts and reports what is dropped (OwnerStore's, named here for the messages too). */
  readonly drops: DropLog;
  nodeChannel(node: string): string;
  sessionKey(prefix: string, sessionId: string): string;
  /** PUBLISH; resolves with the number of subscribers (processes) that got it. */
  send(channel: string, message: string): Promise<number>;
  /** Whether Redis is reachable (the broker's `ready`). */
  readonly ready: boolean;
}

/** How often holders of relayed requests are checked, and silent relays looked for. */
const TICK_MS = 1000;
/** Attempts to find a live holder for one receiving request before serving it here. */
const MAX_HOPS = 3;

function failure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the requests of sessions held by other processes through Redis: the process that
 * opened a session holds it (an owner record names it, owners.ts); any other process that
 * gets one of its requests forwards sends to it and relays its frames to the receiving
 * request. With it, a balancer need not be sticky.
 */
export class Forwarder implements RelayHost, RemoteLink {
  /** Sessions this process holds, by owner record key. */
  private readonly owned = new Map<string, Session>();
  /** Keys this process claimed and whose session is being opened. */
  private readonly claimed = new Set<string>();
  /** Receivers here for requests other processes serve, by `node/relay`. */
  private readonly remotes = new Map<string, RemoteReceiver>();
  /** Requests served here for sessions other processes hold, by relay id. */
  private readonly relays = new Map<number, Relay>();
  private readonly pendingSends = new Map<number, PendingSend>();
  private readonly records: OwnerRecords;
  private nextId = 0;
  private readonly timer: NodeJS.Timeout;
  private lastRefresh = Date.now();
  private closed = false;

  constructor(private readonly host: ForwardHost) {
    this.records = new OwnerRecords(host);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** @internal This process's id. */
  get self(): string {
    return this.host.id;
  }

  /** The session relay of one service (its heartbeat tells when a relay is silent too long). */
  relayFor(heartbeatDelay: number): SessionRelay {
    return new ServiceRelay(this, heartbeatDelay, (prefix, id) => this.host.sessionKey(prefix, id));
  }

  // ---- a service's lookups ------------------------------------------------------------------

  /** @internal A receiving request for a session not held here. */
  claim(key: string, heartbeatDelay: number, found: (holder: RemoteSession | null) => void): void {
    if (this.closed) {
      found(null);
      return;
    }
    const cached = this.records.cached(key);
    if (cached !== null && cached !== this.host.id) {
      found(new RemoteHolder(this, cached, key, heartbeatDelay));
      return;
    }
    this.records.claim(key).then(
      (holder) => {
        if (holder === this.host.id) {
          this.claimed.add(key);
          found(null);
        } else {
          this.records.remember(key, holder);
          found(new RemoteHolder(this, holder, key, heartbeatDelay));
        }
      },
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: session owner lookup failed: ${failure(error)}`);
        found(null);
      },
    );
  }

  /** @internal A send request for a session not held here. */
  find(key: string, heartbeatDelay: number, found: (holder: RemoteSession | null) => void): void {
    if (this.closed) {
      found(null);
      return;
    }
    this.records.holder(key).then(
      (holder) => {
        if (holder === null || holder === this.host.id) {
          found(null);
          return;
        }
        this.records.remember(key, holder);
        found(new RemoteHolder(this, holder, key, heartbeatDelay));
      },
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: session owner lookup failed: ${failure(error)}`);
        found(null);
      },
    );
  }

  /** @internal The session of a claim opened here (null: it did not, and the claim goes back). */
  opened(key: string, session: Session | null): void {
    if (!this.claimed.delete(key)) return;
    if (session !== null) this.owned.set(key, session);
    else this.release(key);
  }

  /** @internal A session of this process is forgotten. */
  forgotten(key: string): void {
    if (this.owned.delete(key)) this.release(key);
  }

  private release(key: string): void {
    this.records.release(key).catch((error: unknown) => {
      this.host.log('debug', `sockjs-express/redis: could not release ${key}: ${failure(error)}`);
    });
  }

  // ---- messages from other processes -------------------------------------------------------

  /**
   * A message on this process's channel; `sender` is the process that signed it, null
   * without a secret. A message reaches only what its sender may address: a relay's frames
   * come from the process holding its session, an acknowledgement from the process the send
   * went to, a `lost` or `release` names a request of its own sender.
   */
  handle(raw: string, sender: string | null): void {
    const message = decode(raw);
    if (message === null) {
      this.host.drops.drop('malformed', 'a forwarding message');
      return;
    }
    if (sender !== null && message.from !== sender) {
      this.host.drops.drop('misaddressed', 'a forwarding message signed by another process than its sender');
      return;
    }
    switch (message.type) {
      case 'attach':
        this.attachRemote(message);
        break;
      case 'lost':
        this.remotes.get(message.from + '/' + message.relay)?.lost();
        break;
      case 'release':
        this.remotes.get(message.from + '/' + message.relay)?.end();
        break;
      case 'send':
        this.deliverSend(message);
        break;
      case 'frame': {
        const relay = this.relayFrom(message.from, message.relay);
        if (relay !== undefined) {
          relay.lastSeen = Date.now();
          relay.receiver.sendFrame(message.frame);
        }
        break;
      }
      case 'end':
        this.relayFrom(message.from, message.relay)?.receiver.end();
        break;
      case 'destroy': {
        const relay = this.relayFrom(message.from, message.relay);
        if (relay !== undefined) {
          this.relays.delete(relay.id);
          relay.receiver.owner = null;
          relay.receiver.destroy();
        }
        break;
      }
      case 'gone': {
        const relay = this.relayFrom(message.from, message.relay);
        if (relay !== undefined) this.holderGone(relay);
        break;
      }
      case 'ack': {
        const pending = this.pendingSends.get(message.send);
        if (pending === undefined) break;
        if (pending.node === message.from) pending.settle(message.taken);
        else this.host.drops.drop('misaddressed', 'an acknowledgement from another process than the holder');
        break;
      }
      case 'ping':
        break;
    }
  }

  /** Relayed request `id`, when `node` holds its session (anyone else may not address it). */
  private relayFrom(node: string, id: number): Relay | undefined {
    const relay = this.relays.get(id);
    if (relay === undefined || relay.holder.node === node) return relay;
    this.host.drops.drop('misaddressed', 'a frame from another process than the holder');
    return undefined;
  }

  // ---- serving for the holder --------------------------------------------------------------

  /**
   * @internal Serves a receiving request for a session `holder` holds: the response is
   * ours, the frames come from the holder's session. A dead holder (no process got the
   * message) or one that no longer holds the session is replaced by this process.
   */
  relayTo(holder: RemoteHolder, receiver: RelayedReceiver, openHere: () => boolean, hops: number): void {
    const id = ++this.nextId;
    const relay = new Relay(this, id, holder, receiver, openHere, hops);
    this.relays.set(id, relay);
    receiver.owner = relay;
    const message: ForwardMessage = {
      type: 'attach',
      from: this.host.id,
      session: holder.key,
      relay: id,
      transport: receiver.protocol,
      callback: receiver.callback,
      limit: receiver.limit,
    };
    void this.toNode(holder.node, message).then((reached) => {
      if (reached === 0 && this.relays.get(id) === relay) this.holderGone(relay);
    });
  }

  /** The relay's holder is dead or lost the session: take the session over, or find its new holder. */
  private holderGone(relay: Relay): void {
    this.relays.delete(relay.id);
    const { holder, receiver } = relay;
    this.records.forget(holder.key);
    receiver.owner = null;
    if (receiver.ended) return;
    this.records.takeOver(holder.key, holder.node).then(
      (now) => {
        if (receiver.ended) return;
        if (now === this.host.id) {
          // A new session here: the client hears `o` again and knows its session is gone.
          this.claimed.add(holder.key);
          relay.openHere();
        } else if (now !== null && relay.hops + 1 < MAX_HOPS) {
          this.records.remember(holder.key, now);
          const next = new RemoteHolder(this, now, holder.key, holder.heartbeatDelay);
          this.relayTo(next, receiver, relay.openHere, relay.hops + 1);
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
    void this.toNode(relay.holder.node, { type: 'lost', from: this.host.id, relay: relay.id });
  }

  /** @internal A relayed response is over (its holder ended it, or its byte budget is spent). */
  relayDone(relay: Relay): void {
    if (this.relays.get(relay.id) === relay) this.relays.delete(relay.id);
  }

  /** @internal Forwards a send's messages to the holder of their session. */
  forwardSend(holder: RemoteHolder, messages: readonly string[], done: (taken: boolean) => void): void {
    const id = ++this.nextId;
    const pending = new PendingSend(holder.node, this.host.forwardTimeout, (taken) => {
      this.pendingSends.delete(id);
      if (!taken) this.records.forget(holder.key);
      done(taken);
    });
    this.pendingSends.set(id, pending);
    const message: ForwardMessage = {
      type: 'send',
      from: this.host.id,
      session: holder.key,
      send: id,
      messages,
    };
    void this.toNode(holder.node, message).then((reached) => {
      if (reached === 0) pending.settle(false);
    });
  }

  // ---- the holder's side -------------------------------------------------------------------

  private attachRemote(message: Extract<ForwardMessage, { type: 'attach' }>): void {
    const session = this.owned.get(message.session);
    const format = RECEIVING_FORMATS.get(message.transport);
    if (session === undefined || format === undefined || this.closed) {
      void this.toNode(message.from, { type: 'gone', from: this.host.id, relay: message.relay });
      return;
    }
    if (this.remotes.has(message.from + '/' + message.relay)) {
      // One request, one attach: a second one would orphan the receiver already attached.
      this.host.drops.drop('misaddressed', 'a second attach for one relayed request');
      return;
    }
    const remote = new RemoteReceiver(
      this,
      message.from,
      message.relay,
      format,
      message.limit,
      message.callback,
    );
    this.remotes.set(remote.name, remote);
    session.attach(remote, null, null);
  }

  private deliverSend(message: Extract<ForwardMessage, { type: 'send' }>): void {
    const session = this.owned.get(message.session);
    if (session !== undefined) session.didMessages(message.messages);
    void this.toNode(message.from, {
      type: 'ack',
      from: this.host.id,
      send: message.send,
      taken: session !== undefined,
    });
  }

  /** @internal */
  remoteGone(remote: RemoteReceiver): void {
    if (this.remotes.get(remote.name) === remote) this.remotes.delete(remote.name);
  }

  /** @internal Publishes to another process; resolves with how many got it (0 on failure). */
  toNode(node: string, message: ForwardMessage): Promise<number> {
    return this.host.send(this.host.nodeChannel(node), encode(message)).then(
      (reached) => reached,
      (error: unknown) => {
        this.host.log('error', `sockjs-express/redis: publishing to ${node} failed: ${failure(error)}`);
        return 0;
      },
    );
  }

  // ---- housekeeping ------------------------------------------------------------------------

  /**
   * Once a second: holders of relayed requests are pinged (a dead one has no subscriber,
   * and its relays are interrupted), relays silent for two heartbeats are interrupted, and
   * the records of held sessions are renewed every third of their TTL (while Redis is there).
   */
  private tick(): void {
    const now = Date.now();
    const byHolder = new Map<string, Relay[]>();
    for (const relay of this.relays.values()) {
      const silentFor = now - relay.lastSeen;
      if (silentFor > 2 * relay.holder.heartbeatDelay + TICK_MS) {
        this.host.log('info', `sockjs-express/redis: a relayed request heard nothing for ${silentFor} ms`);
        this.relays.delete(relay.id);
        interrupt(relay.receiver);
        continue;
      }
      const list = byHolder.get(relay.holder.node);
      if (list === undefined) byHolder.set(relay.holder.node, [relay]);
      else list.push(relay);
    }
    for (const pending of this.pendingSends.values()) {
      if (!byHolder.has(pending.node)) byHolder.set(pending.node, []);
    }
    for (const [node, relays] of byHolder) {
      void this.toNode(node, { type: 'ping', from: this.host.id }).then((reached) => {
        if (reached !== 0) return;
        this.host.log(
          'info',
          `sockjs-express/redis: no process got the ping to ${node}: it is gone, or Redis is`,
        );
        for (const relay of relays) {
          if (this.relays.get(relay.id) !== relay) continue;
          this.relays.delete(relay.id);
          interrupt(relay.receiver);
        }
        for (const pending of this.pendingSends.values()) if (pending.node === node) pending.settle(false);
        this.records.prune(node);
      });
    }
    this.records.prune(null);
    // Not while Redis is away: each renewal would fail and log. The first tick after it is
    // back renews them.
    if (now - this.lastRefresh >= this.host.ownerTtl / 3 && this.host.ready) {
      this.lastRefresh = now;
      for (const key of this.owned.keys()) {
        this.records.renew(key).catch((error: unknown) => {
          this.host.log('error', `sockjs-express/redis: could not renew ${key}: ${failure(error)}`);
        });
      }
    }
  }

  /**
   * Stops forwarding. Relayed responses are handed back: their holders end them after the
   * frames already on their way (the clients poll again, elsewhere), or they are ended
   * after `graceMs`. Remote receivers end; owned records are released.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const relay of this.relays.values()) {
      void this.toNode(relay.holder.node, { type: 'release', from: this.host.id, relay: relay.id });
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
    await Promise.all(keys.map((key) => this.records.release(key).catch(() => undefined)));
  }
}

/** One service's view of the forwarder: owner record keys from its sessions' addresses. */
class ServiceRelay implements SessionRelay {
  constructor(
    private readonly forwarder: Forwarder,
    private readonly heartbeatDelay: number,
    private readonly keyOf: (prefix: string, id: string) => string,
  ) {}

  claim(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void {
    this.forwarder.claim(this.keyOf(prefix, id), this.heartbeatDelay, found);
  }

  find(prefix: string, id: string, found: (holder: RemoteSession | null) => void): void {
    this.forwarder.find(this.keyOf(prefix, id), this.heartbeatDelay, found);
  }

  opened(prefix: string, id: string, session: Session | null): void {
    this.forwarder.opened(this.keyOf(prefix, id), session);
  }

  forgotten(prefix: string, id: string): void {
    this.forwarder.forgotten(this.keyOf(prefix, id));
  }
}
