/**
 * The demo's own use of Redis when several demo processes share one: the client the broker
 * uses, and the chat room's member list across processes.
 */
import { createClient } from 'redis';
import type { Member, Roster } from '../chat';

function newClient(url: string) {
  return createClient({ url });
}

/** The node-redis client type the demo uses. */
export type DemoRedisClient = ReturnType<typeof newClient>;

/** A connected node-redis client and how to close it. */
export interface DemoRedis {
  readonly client: DemoRedisClient;
  close(): Promise<void>;
}

/** Connects to `url`; connection errors are printed, and node-redis reconnects by itself. */
export async function connectRedis(url: string): Promise<DemoRedis> {
  const client = newClient(url);
  client.on('error', (error: Error) => console.error(`demo: redis: ${error.message}`));
  await client.connect();
  return {
    client,
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

/** How long a process's part of the member list outlives the process (it is renewed meanwhile). */
const ROSTER_TTL_MS = 15_000;
const ROSTER_PREFIX = 'demo:chat:members:';

/**
 * Who is in the chat room, on every process: one Redis hash per process, renewed while the
 * process runs, so the members of a process that died disappear within ROSTER_TTL_MS.
 */
export class RedisRoster implements Roster {
  private readonly key: string;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly client: DemoRedisClient,
    instance: string,
  ) {
    this.key = ROSTER_PREFIX + instance;
    // A process restarted under the same name starts with an empty part.
    this.report(client.del(this.key));
    this.timer = setInterval(() => this.report(client.pExpire(this.key, ROSTER_TTL_MS)), ROSTER_TTL_MS / 3);
    this.timer.unref();
  }

  add(id: string, member: Member): void {
    this.report(this.client.hSet(this.key, id, JSON.stringify(member)));
    this.report(this.client.pExpire(this.key, ROSTER_TTL_MS));
  }

  remove(id: string): void {
    this.report(this.client.hDel(this.key, id));
  }

  /** Every member of every live process (the values `add()` was given). */
  async list(): Promise<readonly Member[]> {
    const members: Member[] = [];
    for await (const keys of this.client.scanIterator({ MATCH: ROSTER_PREFIX + '*', COUNT: 100 })) {
      for (const key of keys) {
        const fields = await this.client.hVals(key);
        for (const field of fields) members.push(JSON.parse(field) as Member);
      }
    }
    return members;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.client.isOpen) await this.client.del(this.key);
  }

  private report(command: Promise<unknown>): void {
    command.catch((error: unknown) => {
      console.error(`demo: redis: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
