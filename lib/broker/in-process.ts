import { defaultLogFunction, type LogFunction } from '../options';
import type { Connection } from '../session/connection';
import { Audience } from './audience';
import type { Broker, ConnectionSource } from './broker';
import { FanOutQueue } from './fan-out';
import { newNodeId } from './node-id';

/** Options of `createBroker()`. */
export interface BrokerOptions {
  /** Receives the broker's log lines, like the services' `log` option. @default NODE_DEBUG=sockjs */
  log?: LogFunction;
}

/**
 * A broker for the connections of this process: `publish()` writes to every connection of
 * the services attached to it, `publishTo()` to a group's members. For several processes,
 * `createBroker()` of `sockjs-express/redis` makes a broker with the same methods.
 */
export function createBroker(options: BrokerOptions = {}): Broker {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('sockjs: createBroker() options must be an object');
  }
  const log = options.log ?? defaultLogFunction;
  if (typeof log !== 'function') throw new TypeError('sockjs: option log must be a function');
  return new InProcessBroker(log);
}

class InProcessBroker implements Broker {
  readonly id = newNodeId();
  private readonly audience = new Audience();
  private readonly deliveries = new FanOutQueue();
  private readonly sources = new WeakSet<ConnectionSource>();
  private closed = false;

  constructor(private readonly log: LogFunction) {}

  attach(source: ConnectionSource): void {
    if (source === null || typeof (source as Partial<ConnectionSource>).on !== 'function') {
      throw new TypeError('sockjs: attach() takes a service (sockjsMiddleware() or createServer())');
    }
    this.checkOpen();
    if (this.sources.has(source)) return;
    this.sources.add(source);
    source.on('connection', (connection) => {
      if (!this.closed) this.audience.track(connection);
    });
  }

  async publish(message: string): Promise<number> {
    checkMessage(message);
    this.checkOpen();
    return this.deliveries.deliver(() => this.audience.everyone, message);
  }

  async publishTo(group: string, message: string): Promise<number> {
    checkGroup(group);
    checkMessage(message);
    this.checkOpen();
    return this.deliveries.deliver(() => this.audience.membersOf(group) ?? [], message);
  }

  async join(connection: Connection, group: string): Promise<void> {
    checkGroup(group);
    this.checkOpen();
    this.audience.join(connection, group);
  }

  async leave(connection: Connection, group: string): Promise<void> {
    checkGroup(group);
    this.audience.leave(connection, group);
  }

  groupsOf(connection: Connection): readonly string[] {
    return this.audience.groupsOf(connection);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.audience.clear();
    this.log('debug', `sockjs: broker ${this.id} closed`);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('sockjs: the broker is closed');
  }
}

function checkMessage(message: unknown): void {
  if (typeof message !== 'string') throw new TypeError('sockjs: a message must be a string');
}

function checkGroup(group: unknown): void {
  if (typeof group !== 'string' || group === '') {
    throw new TypeError('sockjs: a group name must be a non-empty string');
  }
}
