import {
  sockjsMiddleware,
  type Broker,
  type Connection,
  type SockjsOptions,
  type SockjsRouter,
} from '../lib/index';

/** Longest chat message the room relays, in characters; longer ones get an error back. */
export const MAX_CHAT_MESSAGE = 2000;

/** The chat command that asks the server to close the connection. */
export const BYE_COMMAND = '/bye';
/** Close code and reason the server answers BYE_COMMAND with. */
export const BYE_CODE = 4002;
export const BYE_REASON = 'Server says bye';

/** One person in the room, as every client sees them. */
export interface Member {
  readonly name: string;
  readonly transport: string;
  /** The demo process the member is connected to, when several share the room. */
  readonly server?: string;
}

/**
 * What the server sends to chat clients, as JSON. Clients send plain text: every message
 * is said to the room, except the command `/bye`.
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

/** Who is in the room: in this process alone, or on every process (cluster/redis.ts). */
export interface Roster {
  add(id: string, member: Member): void;
  remove(id: string): void;
  /** Everyone in the room. */
  list(): Promise<readonly Member[]>;
}

/** The members of a room that lives in one process. */
export class LocalRoster implements Roster {
  private readonly members = new Map<string, Member>();

  add(id: string, member: Member): void {
    this.members.set(id, member);
  }

  remove(id: string): void {
    this.members.delete(id);
  }

  list(): Promise<readonly Member[]> {
    return Promise.resolve([...this.members.values()]);
  }
}

/**
 * What carries a room: the same code serves one process (the main entry's broker and a
 * LocalRoster) and several processes on one Redis (the `sockjs-express/redis` broker and
 * a roster in Redis).
 */
export interface ChatRoomSharing {
  /** Carries every room event to the members. */
  readonly broker: Broker;
  /** Who is in the room. */
  readonly roster: Roster;
  /** This process's name when several share the room (part of every member name, so names stay unique). */
  readonly instance?: string;
}

/**
 * A chat room on a SockJS service: every message a client sends is published to every
 * connected client (the sender included, so each page shows the room's one order).
 */
export function createChatRoom(
  options: SockjsOptions,
  sharing: ChatRoomSharing,
  instance: string | null = null,
): SockjsRouter {
  const service = sockjsMiddleware(options);
  const { broker, roster } = sharing;
  const server = sharing.instance ?? instance ?? undefined;
  let guests = 0;

  const send = (conn: Connection, event: ChatEvent): void => {
    conn.write(JSON.stringify(event));
  };
  const broadcast = (event: ChatEvent): void => {
    broker.publish(JSON.stringify(event)).catch((error: unknown) => {
      console.error(
        `demo: chat: publishing failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  };

  // Attached before the room's own listener: a newcomer hears everything published after it came.
  broker.attach(service);
  service.on('connection', (conn) => {
    guests += 1;
    const name = sharing.instance === undefined ? `Guest ${guests}` : `Guest ${guests}@${sharing.instance}`;
    const member: Member =
      server === undefined ? { name, transport: conn.protocol } : { name, transport: conn.protocol, server };
    roster.add(conn.id, member);
    const welcome = (members: readonly Member[]): void => {
      send(conn, { type: 'welcome', you: member, members, server });
      // Everyone hears of the newcomer, the newcomer too (its page knows its own name).
      broadcast({ type: 'join', member });
    };
    roster.list().then(welcome, (error: unknown) => {
      console.error(`demo: chat: member list: ${error instanceof Error ? error.message : String(error)}`);
      welcome([member]);
    });

    conn.on('data', (text) => {
      if (text.trim() === BYE_COMMAND) {
        conn.close(BYE_CODE, BYE_REASON);
        return;
      }
      if (text.trim() === '') return;
      if (text.length > MAX_CHAT_MESSAGE) {
        send(conn, { type: 'error', message: `Messages are limited to ${MAX_CHAT_MESSAGE} characters.` });
        return;
      }
      broadcast({ type: 'message', from: member, text, at: Date.now() });
    });

    conn.on('close', () => {
      roster.remove(conn.id);
      broadcast({ type: 'leave', member });
    });
  });
  return service;
}
