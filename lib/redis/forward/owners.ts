/**
 * The Redis records naming which process holds a session: a key per session, holding the
 * process id, with a TTL the holder renews. Changed only by Lua scripts, so that a check
 * and its change are one step. Each script touches one key (hash-slot safe).
 *
 * A record read back is checked like any message: a value that is not a process id (or,
 * with a secret, not signed for its key) names nobody, and is taken over like the record
 * of a dead process.
 */
import type { DropLog } from '../drops';
import { isNodeId } from '../node-id';
import { MAC_PATTERN, framed, type Signer } from '../signing';

/** What the records need of the broker: Redis commands, this process's id and the TTL. */
export interface OwnerStore {
  readonly id: string;
  readonly ownerTtl: number;
  /** Signs records when the brokers share a secret. */
  readonly signer: Signer | null;
  readonly drops: DropLog;
  /** One command that touches `key` alone (a cluster routes it by `key`). */
  command(key: string, args: readonly string[]): Promise<unknown>;
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

/** How long a looked-up owner is remembered. */
const OWNER_CACHE_MS = 5000;

/** A signed record: `<process id> <MAC of the key and the id>`. */
const SIGNED_RECORD = new RegExp(`^(\\S{1,80}) (${MAC_PATTERN})$`);
/** Records longer than any valid one are not parsed. */
const MAX_RECORD = 128;

/** What Redis answered for a record: nothing, a process id, or a value naming nobody. */
type Record = { kind: 'none' } | { kind: 'node'; node: string } | { kind: 'invalid'; raw: string };

export class OwnerRecords {
  /** Owners looked up lately, by key. */
  private readonly cache = new Map<string, { node: string; until: number }>();

  constructor(private readonly store: OwnerStore) {}

  /** Takes the key for this process unless another holds it; resolves with the holder (maybe us). */
  async claim(key: string): Promise<string> {
    const { id, ownerTtl } = this.store;
    const found = this.read(
      key,
      await this.store.command(key, ['EVAL', CLAIM, '1', key, this.value(key, id), String(ownerTtl)]),
    );
    if (found.kind === 'none') return id;
    if (found.kind === 'node') return found.node;
    return (await this.replace(key, found.raw)) ?? id;
  }

  /** Takes the key from `previous` (gone); resolves with the holder now (us, or a newer one). */
  takeOver(key: string, previous: string): Promise<string | null> {
    return this.replace(key, this.value(key, previous));
  }

  /** The holder of the key, null when none. */
  async holder(key: string): Promise<string | null> {
    const cached = this.cached(key);
    if (cached !== null) return cached;
    const found = this.read(key, await this.store.command(key, ['GET', key]));
    return found.kind === 'node' ? found.node : null;
  }

  /** Deletes the key while it names this process. */
  async release(key: string): Promise<void> {
    await this.store.command(key, ['EVAL', RELEASE, '1', key, this.value(key, this.store.id)]);
  }

  /** Replaces the record `previous` (as stored) with ours; resolves with the holder now. */
  private async replace(key: string, previous: string): Promise<string | null> {
    const { id, ownerTtl } = this.store;
    const mine = this.value(key, id);
    const reply = await this.store.command(key, [
      'EVAL',
      TAKE_OVER,
      '1',
      key,
      previous,
      mine,
      String(ownerTtl),
    ]);
    if (reply === mine) return id;
    const found = this.read(key, reply);
    return found.kind === 'node' ? found.node : null;
  }

  /** The record naming `node` as the holder of `key`, as stored. */
  private value(key: string, node: string): string {
    const { signer } = this.store;
    return signer === null ? node : `${node} ${signer.mac('sjs1-owner\n', framed(key), node)}`;
  }

  /** A record as Redis answered it, checked. */
  private read(key: string, reply: unknown): Record {
    if (reply === null || reply === undefined) return { kind: 'none' };
    if (typeof reply !== 'string' || reply.length > MAX_RECORD) {
      this.store.drops.drop('malformed', 'an owner record that is no process id');
      return { kind: 'invalid', raw: typeof reply === 'string' ? reply : '' };
    }
    const { signer } = this.store;
    if (signer === null) {
      if (isNodeId(reply)) return { kind: 'node', node: reply };
      this.store.drops.drop('malformed', 'an owner record that is no process id');
      return { kind: 'invalid', raw: reply };
    }
    const match = SIGNED_RECORD.exec(reply);
    if (match === null || !isNodeId(match[1])) {
      this.store.drops.drop('unsigned', 'an owner record');
      return { kind: 'invalid', raw: reply };
    }
    if (!signer.verify(match[2], 'sjs1-owner\n', framed(key), match[1])) {
      this.store.drops.drop('forged', 'an owner record');
      return { kind: 'invalid', raw: reply };
    }
    return { kind: 'node', node: match[1] };
  }

  /** Renews the key's TTL. */
  async renew(key: string): Promise<void> {
    await this.store.command(key, ['PEXPIRE', key, String(this.store.ownerTtl)]);
  }

  /** The holder looked up lately, if any. */
  cached(key: string): string | null {
    const entry = this.cache.get(key);
    if (entry === undefined) return null;
    if (entry.until < Date.now()) {
      this.cache.delete(key);
      return null;
    }
    return entry.node;
  }

  remember(key: string, node: string): void {
    this.cache.set(key, { node, until: Date.now() + OWNER_CACHE_MS });
  }

  forget(key: string): void {
    this.cache.delete(key);
  }

  /** Forgets every key `node` held (it is gone), and every entry past its time. */
  prune(gone: string | null): void {
    const now = Date.now();
    for (const [key, entry] of this.cache)
      if (entry.node === gone || entry.until < now) this.cache.delete(key);
  }
}
