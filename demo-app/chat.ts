import { sockjsMiddleware, type Connection, type SockjsOptions, type SockjsRouter } from '../lib/index';
import type { Broker } from '../lib/redis/index';
import type { Roster } from './cluster/redis';

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

/** A room shared by several processes over Redis. */
export interface ChatCluster {
  /** Carries every room event to the members on every process. */
  readonly broker: Broker;
  /** Who is in the room, on every process. */
  readonly roster: Roster;
  /** This process's name (part of every member name, so names stay unique). */
  readonly instance: string;
}

/**
 * A chat room on a SockJS service: every message a client sends is broadcast to every
 * connected client (the sender included, so each page shows the room's one order). With a
 * cluster, the room spans every process attached to the same Redis.
 */
export function createChatRoom(
  options: SockjsOptions,
  cluster?: ChatCluster,
  instance: string | null = null,
): SockjsRouter {
  const service = sockjsMiddleware(options);
  const members = new Map<Connection, Member>();
  const server = cluster?.instance ?? instance ?? undefined;
  let guests = 0;

  const send = (conn: Connection, event: ChatEvent): void => {
    conn.write(JSON.stringify(event));
  };
  const broadcast = (event: ChatEvent): void => {
    const frame = JSON.stringify(event);
    if (cluster !== undefined) {
      cluster.broker.publish(frame).catch((error: unknown) => {
        console.error(
          `demo: chat: publishing failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      return;
    }
    for (const conn of members.keys()) conn.write(frame);
  };

  // Attached before the room's own listener: a newcomer hears everything published after it came.
  cluster?.broker.attach(service);
  service.on('connection', (conn) => {
    guests += 1;
    const name = cluster === undefined ? `Guest ${guests}` : `Guest ${guests}@${cluster.instance}`;
    const member: Member =
      server === undefined ? { name, transport: conn.protocol } : { name, transport: conn.protocol, server };
    if (cluster === undefined) {
      broadcast({ type: 'join', member });
      members.set(conn, member);
      send(conn, { type: 'welcome', you: member, members: [...members.values()], server });
    } else {
      members.set(conn, member);
      cluster.roster.add(conn.id, member);
      cluster.roster.list().then(
        (everyone) => {
          send(conn, { type: 'welcome', you: member, members: everyone as Member[], server });
          broadcast({ type: 'join', member });
        },
        (error: unknown) => {
          console.error(`demo: chat: member list: ${error instanceof Error ? error.message : String(error)}`);
          send(conn, { type: 'welcome', you: member, members: [...members.values()], server });
          broadcast({ type: 'join', member });
        },
      );
    }

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
      members.delete(conn);
      cluster?.roster.remove(conn.id);
      broadcast({ type: 'leave', member });
    });
  });
  return service;
}
