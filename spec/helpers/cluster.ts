/**
 * For the scale-out specs: sockjs-client in Node talking to the demo's chat room through a
 * balancer, and the small checks every balancer spec makes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  findBinary,
  startDemoInstance,
  type DemoInstance,
  type DemoInstanceOptions,
} from '../../scripts/cluster/processes';
import { GET } from './http';
import { handshakeStatus } from './websocket';
import {
  SockJS,
  within,
  type NodeClientTransport,
  type SockjsClient,
  type SockjsCloseEvent,
} from './sockjs-client';

/** Transports sockjs-client 1.6 has in Node. */
export const NODE_TRANSPORTS: readonly NodeClientTransport[] = [
  'websocket',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
];

/** Heartbeat of the demo processes in these specs; the proxies' timeouts are scaled to it. */
export const HEARTBEAT_MS = 500;
/** Disconnect delay of the demo processes in these specs. */
export const DISCONNECT_MS = 1000;

/** How long one step (open, a round of messages, a close) may take. */
export const STEP_MS = 10_000;

/**
 * The path of a Debian binary, or the reason its specs are skipped (node:test prints it).
 */
export function requireBinary(
  name: string,
  debianPackage: string,
): { path: string | null; skip: string | false } {
  const path = findBinary(name);
  return {
    path,
    skip:
      path === null
        ? `${name} is not installed (Debian package ${debianPackage}; .ci/run installs it)`
        : false,
  };
}

/** One person in the demo's chat room, as the room describes them. */
export interface Member {
  readonly name: string;
  readonly transport: string;
  /** The demo process the member is connected to, when several share the room. */
  readonly server?: string;
}

/**
 * What the demo's chat room sends its clients, as JSON: the room's wire format, written
 * down here from the specs' side (what the demo sends is checked at run time).
 */
export type ChatEvent =
  | {
      readonly type: 'welcome';
      readonly you: Member;
      readonly members: readonly Member[];
      /** The demo process serving this connection, when it has a name. */
      readonly server?: string;
    }
  | { readonly type: 'join'; readonly member: Member }
  | { readonly type: 'leave'; readonly member: Member }
  | { readonly type: 'message'; readonly from: Member; readonly text: string; readonly at: number }
  | { readonly type: 'error'; readonly message: string };

type Welcome = Extract<ChatEvent, { type: 'welcome' }>;
type ChatMessage = Extract<ChatEvent, { type: 'message' }>;

/**
 * One chat client: the real sockjs-client, with every event kept. sockjs-client in Node
 * never notices a streaming response the proxy cut (a dead process), so, like an
 * application would, it closes itself once heartbeats stop for four periods.
 */
export class ChatClient {
  readonly client: SockjsClient;
  readonly events: ChatEvent[] = [];
  welcome: Welcome | null = null;
  closeEvent: SockjsCloseEvent | null = null;
  readonly closed: Promise<SockjsCloseEvent>;
  private readonly opened: Promise<void>;
  private lastHeard = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private waiters: (() => void)[] = [];

  constructor(
    baseUrl: string,
    readonly transport: NodeClientTransport,
    readonly label: string = transport,
  ) {
    const client = new SockJS(`${baseUrl}/chat`, null, { transports: [transport] });
    this.client = client;
    let onOpen: () => void = () => undefined;
    let onClose: (event: SockjsCloseEvent) => void = () => undefined;
    this.opened = new Promise<void>((resolve) => (onOpen = resolve));
    this.closed = new Promise<SockjsCloseEvent>((resolve) => (onClose = resolve));
    client.onopen = () => {
      this.lastHeard = Date.now();
      onOpen();
    };
    client.onmessage = (event) => {
      this.lastHeard = Date.now();
      const chat = JSON.parse(String(event.data)) as ChatEvent;
      if (chat.type === 'welcome' && this.welcome === null) this.welcome = chat;
      this.events.push(chat);
      this.wake();
    };
    (client as SockjsClient & { onheartbeat: () => void }).onheartbeat = () => {
      this.lastHeard = Date.now();
    };
    client.onclose = (event) => {
      this.closeEvent = event;
      clearInterval(this.watchdog);
      onClose(event);
      this.wake();
    };
    this.watchdog = setInterval(() => {
      if (client.readyState === 1 && Date.now() - this.lastHeard > 4 * HEARTBEAT_MS) {
        client.close(4900, 'Heartbeats stopped');
      }
    }, HEARTBEAT_MS);
    this.watchdog.unref();
  }

  get me(): Member {
    assert.ok(this.welcome !== null, `${this.label}: no welcome yet`);
    return this.welcome.you;
  }

  /** The process holding this client's session, as the chat room says. */
  get server(): string {
    assert.ok(this.welcome !== null, `${this.label}: no welcome yet`);
    const server = this.welcome.server;
    assert.ok(server !== undefined, `${this.label}: the welcome names no server`);
    return server;
  }

  /** Waits for open and the room's welcome. */
  async open(): Promise<this> {
    const closedFirst = this.closed.then((event) => {
      throw new Error(`${this.label}: closed before opening: ${event.code} ${event.reason}`);
    });
    await within(Promise.race([this.opened, closedFirst]), STEP_MS, `${this.label} to open`);
    await this.until(() => this.welcome !== null, `${this.label}: the welcome`);
    assert.equal(this.client.transport, this.transport, `${this.label} uses ${this.transport}`);
    return this;
  }

  send(text: string): void {
    this.client.send(text);
  }

  /** Chat messages this client said, as the room sent them back. */
  own(): ChatMessage[] {
    const name = this.me.name;
    return this.messages().filter((event) => event.from.name === name);
  }

  messages(): ChatMessage[] {
    return this.events.filter((event): event is ChatMessage => event.type === 'message');
  }

  /** Waits until `predicate` holds; rejects when the client closes first or after STEP_MS. */
  until(predicate: () => boolean, what: string, timeoutMs = STEP_MS): Promise<void> {
    return within(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (predicate()) {
            resolve();
            return;
          }
          if (this.closeEvent !== null) {
            reject(
              new Error(
                `${this.label} closed (${this.closeEvent.code} ${this.closeEvent.reason}) waiting for ${what}`,
              ),
            );
            return;
          }
          this.waiters.push(check);
        };
        check();
      }),
      timeoutMs,
      what,
    );
  }

  /** Sends `count` numbered messages at once and waits for all of them to come back. */
  async say(prefix: string, count: number): Promise<string[]> {
    const texts = Array.from({ length: count }, (_, i) => `${this.label} ${prefix} ${i}`);
    const before = this.own().length;
    for (const text of texts) this.send(text);
    await this.until(() => this.own().length >= before + count, `${this.label}: ${count} messages back`);
    return texts;
  }

  /** Round trips of `count` messages, one at a time, in ms. */
  async roundTrips(count: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      await this.say(`ping${times.length}`, 1);
      times.push(performance.now() - start);
    }
    return times;
  }

  /** Closes (if still open) and waits for the close event. */
  async close(): Promise<SockjsCloseEvent> {
    clearInterval(this.watchdog);
    if (this.client.readyState < 2) this.client.close();
    return within(this.closed, STEP_MS, `${this.label} to close`);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Opens one client per label, all at once. */
export async function openClients(
  baseUrl: string,
  specs: readonly { transport: NodeClientTransport; label: string }[],
): Promise<ChatClient[]> {
  const clients = specs.map((spec) => new ChatClient(baseUrl, spec.transport, spec.label));
  try {
    await Promise.all(clients.map((client) => client.open()));
  } catch (error) {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    throw error;
  }
  return clients;
}

/** `count` clients on every Node transport, labelled `transport#i`. */
export function everyTransport(count: number): { transport: NodeClientTransport; label: string }[] {
  return NODE_TRANSPORTS.flatMap((transport) =>
    Array.from({ length: count }, (_, i) => ({ transport, label: `${transport}#${i + 1}` })),
  );
}

/**
 * What every balancer spec checks of a client: each message it said came back exactly
 * once, in order, from its own member on the process holding its session.
 */
export function assertOwnMessages(client: ChatClient, said: readonly string[]): void {
  const own = client.own();
  assert.deepEqual(
    own.map((event) => event.text),
    said,
    `${client.label}: every message back once, in order`,
  );
  for (const event of own) {
    assert.equal(event.from.server, client.server, `${client.label}: said through its own process`);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Each client's median round trip of 8 messages is under 150 ms: no proxy holds streamed frames back. */
export async function assertShortRoundTrips(clients: readonly ChatClient[]): Promise<void> {
  for (const client of clients) {
    const times = await client.roundTrips(8);
    assert.ok(median(times) < 150, `${client.label}: median round trip ${median(times).toFixed(0)} ms`);
  }
}

/**
 * Demo processes `node1`, `node2`, ... with the specs' heartbeat and disconnect delays and
 * `options`, started one after the other into `instances` (so that `after()` stops those
 * that started when a later one fails).
 */
export async function startDemoInstances(
  instances: DemoInstance[],
  count: number,
  options: Omit<DemoInstanceOptions, 'instance'>,
): Promise<void> {
  for (let i = 1; i <= count; i++) {
    instances.push(
      await startDemoInstance({
        instance: `node${i}`,
        heartbeatDelay: HEARTBEAT_MS,
        disconnectDelay: DISCONNECT_MS,
        ...options,
      }),
    );
  }
}

/** Closes every client, ignoring those already closed. */
export async function closeAll(clients: readonly ChatClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
}

/**
 * The demo's default origin rule seen through a balancer at `url`: a page served through
 * it is the service's own origin (on info, the WebSocket handshake and a jsonp poll), a
 * foreign page gets 403, and so does a jsonp poll that carries neither Origin nor Referer.
 */
export async function assertOwnOriginOnly(url: string): Promise<void> {
  const own = new URL(url).origin;
  const foreign = 'https://evil.example';
  const info = await GET(`${url}/chat/info`, { headers: { Origin: own } });
  assert.equal(info.status, 200, `info from ${own}`);
  assert.equal(info.headers['access-control-allow-origin'], own);
  const refused = await GET(`${url}/chat/info`, { headers: { Origin: foreign } });
  assert.deepEqual([refused.status, refused.body], [403, 'Origin not allowed.']);
  assert.equal(await handshakeStatus(`${url}/chat/websocket`, { Origin: own }), 101);
  assert.equal(await handshakeStatus(`${url}/chat/websocket`, { Origin: foreign }), 403);
  const session = `${url}/chat/000/${randomUUID()}`;
  const poll = await GET(`${session}/jsonp?c=cb`, { headers: { Referer: `${own}/` } });
  assert.deepEqual([poll.status, poll.body], [200, '/**/cb("o");\r\n']);
  const hidden = await GET(`${url}/chat/000/${randomUUID()}/jsonp?c=cb`);
  assert.equal(hidden.status, 403, 'a jsonp poll with neither Origin nor Referer');
}
