/** What an IndexedSet stores in its members: their place there, -1 while in none. */
export interface Indexed {
  setIndex: number;
}

/**
 * A set of objects that each carry their own index: adding or deleting one moves at most
 * one other and allocates nothing. An object belongs to one IndexedSet at most. A
 * long-lived `Set` with many adds and deletes keeps garbage alive past young-generation
 * collections (docs/performance.md, "Mechanisms written here").
 */
export class IndexedSet<T extends Indexed> {
  private readonly members: T[] = [];

  get size(): number {
    return this.members.length;
  }

  add(member: T): void {
    if (member.setIndex !== -1) return;
    member.setIndex = this.members.length;
    this.members.push(member);
  }

  delete(member: T): boolean {
    const index = member.setIndex;
    if (index === -1 || this.members[index] !== member) return false;
    member.setIndex = -1;
    const last = this.members.pop() as T;
    if (last !== member) {
      this.members[index] = last;
      last.setIndex = index;
    }
    return true;
  }

  clear(): void {
    for (const member of this.members) member.setIndex = -1;
    this.members.length = 0;
  }

  /**
   * Visits the members, last first. `visit` may delete the member it is given; members it
   * adds are not visited. For visits that may delete others, iterate over toArray().
   */
  forEach(visit: (member: T) => void): void {
    const members = this.members;
    for (let i = members.length - 1; i >= 0; i--) {
      // Deleting the visited member moves the last one, already visited, into its place.
      if (i < members.length) visit(members[i]);
    }
  }

  /** A copy of the members, for visits that may delete any of them. */
  toArray(): T[] {
    return this.members.slice();
  }
}
