import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedSet, type Indexed } from '../lib/session/indexed-set';

interface Member extends Indexed {
  name: string;
}

function member(name: string): Member {
  return { name, setIndex: -1 };
}

function names(set: IndexedSet<Member>): string[] {
  return set
    .toArray()
    .map((m) => m.name)
    .sort();
}

describe('IndexedSet', () => {
  it('adds once, deletes anywhere, and keeps every index true', () => {
    const set = new IndexedSet<Member>();
    const members = ['a', 'b', 'c', 'd', 'e'].map(member);
    for (const m of members) set.add(m);
    set.add(members[2]);
    assert.equal(set.size, 5);

    assert.equal(set.delete(members[1]), true);
    assert.equal(set.delete(members[1]), false);
    assert.equal(members[1].setIndex, -1);
    assert.equal(set.delete(members[4]), true);
    assert.deepEqual(names(set), ['a', 'c', 'd']);
    for (const m of set.toArray()) assert.equal(set.toArray()[m.setIndex], m);

    set.add(members[1]);
    assert.deepEqual(names(set), ['a', 'b', 'c', 'd']);
  });

  it('ignores a member of another set', () => {
    const one = new IndexedSet<Member>();
    const other = new IndexedSet<Member>();
    const a = member('a');
    const b = member('b');
    one.add(a);
    other.add(b);
    // b claims index 0 in `other`; `one` holds a there.
    assert.equal(one.delete(b), false);
    assert.deepEqual(names(one), ['a']);
  });

  it('visits every member once while the visit deletes the one it is given', () => {
    const set = new IndexedSet<Member>();
    const members = Array.from({ length: 7 }, (_, i) => member(String(i)));
    for (const m of members) set.add(m);
    const visited: string[] = [];
    set.forEach((m) => {
      visited.push(m.name);
      if (Number(m.name) % 2 === 0) set.delete(m);
    });
    assert.deepEqual(visited.sort(), members.map((m) => m.name).sort());
    assert.deepEqual(names(set), ['1', '3', '5']);
  });

  it('clear() frees every member for another set', () => {
    const set = new IndexedSet<Member>();
    const a = member('a');
    set.add(a);
    set.clear();
    assert.equal(set.size, 0);
    assert.equal(a.setIndex, -1);
    const other = new IndexedSet<Member>();
    other.add(a);
    assert.equal(other.size, 1);
  });
});
