import type { Connection } from '../session/connection';
import { ReadyState } from '../session/ready-state';

/**
 * The connections of this process a broker reaches: those tracked for `publish()`, and the
 * members of each group. A connection leaves them all when it closes, and a group without
 * members is forgotten. Groups live in a `Map`, so any name (`__proto__` too) is just a key.
 */
export class Audience {
  private readonly tracked = new Set<Connection>();
  private readonly groups = new Map<string, Set<Connection>>();
  private readonly memberships = new WeakMap<Connection, Set<string>>();
  private readonly forgetOnClose = new WeakMap<Connection, () => void>();

  /** `groupEmptied` hears of each group its last member left by closing. */
  constructor(private readonly groupEmptied: (group: string) => void = () => undefined) {}

  /** Every tracked connection. */
  get everyone(): ReadonlySet<Connection> {
    return this.tracked;
  }

  /** The members of `group`, if it has any. */
  membersOf(group: string): ReadonlySet<Connection> | undefined {
    return this.groups.get(group);
  }

  /** Tracks an open connection until it closes. */
  track(connection: Connection): void {
    if (connection.readyState > ReadyState.OPEN) return;
    this.watch(connection);
    this.tracked.add(connection);
  }

  /** Adds a connection to a group; false when it is closed (it joins nothing then). */
  join(connection: Connection, group: string): boolean {
    if (connection.readyState > ReadyState.OPEN) return false;
    this.watch(connection);
    let groups = this.memberships.get(connection);
    if (groups === undefined) {
      groups = new Set();
      this.memberships.set(connection, groups);
    }
    groups.add(group);
    let members = this.groups.get(group);
    if (members === undefined) {
      members = new Set();
      this.groups.set(group, members);
    }
    members.add(connection);
    return true;
  }

  /** Takes a connection out of a group; true when that left the group without members. */
  leave(connection: Connection, group: string): boolean {
    this.memberships.get(connection)?.delete(group);
    return this.removeMember(connection, group);
  }

  groupsOf(connection: Connection): string[] {
    return [...(this.memberships.get(connection) ?? [])];
  }

  /** Forgets every connection and group, and stops listening for their close. */
  clear(): void {
    const watched = new Set(this.tracked);
    for (const members of this.groups.values()) for (const connection of members) watched.add(connection);
    for (const connection of watched) {
      const forget = this.forgetOnClose.get(connection);
      if (forget !== undefined) connection.off('close', forget);
      this.forgetOnClose.delete(connection);
      this.memberships.delete(connection);
    }
    this.tracked.clear();
    this.groups.clear();
  }

  private removeMember(connection: Connection, group: string): boolean {
    const members = this.groups.get(group);
    if (members === undefined || !members.delete(connection) || members.size > 0) return false;
    this.groups.delete(group);
    return true;
  }

  /** Forgets a connection, and takes it out of its groups, when it closes. */
  private watch(connection: Connection): void {
    if (this.forgetOnClose.has(connection)) return;
    const forget = (): void => this.forget(connection);
    this.forgetOnClose.set(connection, forget);
    connection.once('close', forget);
  }

  private forget(connection: Connection): void {
    this.forgetOnClose.delete(connection);
    this.tracked.delete(connection);
    const groups = this.memberships.get(connection);
    if (groups === undefined) return;
    this.memberships.delete(connection);
    for (const group of groups) {
      if (this.removeMember(connection, group)) this.groupEmptied(group);
    }
  }
}
