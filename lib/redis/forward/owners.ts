/**
 * The Redis records naming which process holds a session: a key per session, holding the
 * process id, with a TTL the holder renews. Changed only by Lua scripts, so that a check
 * and its change are one step. Each script touches one key (hash-slot safe).
 */

/** What the records need of the broker: Redis commands, this process's id and the TTL. */
export interface OwnerStore {
  readonly id: string;
  readonly ownerTtl: number;
  command(args: string[]): Promise<unknown>;
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

/** A process id as Redis answered it: a string, or null (no owner, or a reply of another type). */
function owner(reply: unknown): string | null {
  return typeof reply === 'string' && reply !== '' ? reply : null;
}

export class OwnerRecords {
  /** Owners looked up lately, by key. */
  private readonly cache = new Map<string, { node: string; until: number }>();

  constructor(private readonly store: OwnerStore) {}

  /** Takes the key for this process unless another holds it; resolves with the holder (maybe us). */
  async claim(key: string): Promise<string> {
    const { id, ownerTtl } = this.store;
    return owner(await this.store.command(['EVAL', CLAIM, '1', key, id, String(ownerTtl)])) ?? id;
  }

  /** Takes the key from `previous` (gone); resolves with the holder now (us, or a newer one). */
  async takeOver(key: string, previous: string): Promise<string | null> {
    const { id, ownerTtl } = this.store;
    return owner(await this.store.command(['EVAL', TAKE_OVER, '1', key, previous, id, String(ownerTtl)]));
  }

  /** The holder of the key, null when none. */
  async holder(key: string): Promise<string | null> {
    const cached = this.cached(key);
    if (cached !== null) return cached;
    return owner(await this.store.command(['GET', key]));
  }

  /** Deletes the key while it names this process. */
  async release(key: string): Promise<void> {
    await this.store.command(['EVAL', RELEASE, '1', key, this.store.id]);
  }

  /** Renews the key's TTL. */
  async renew(key: string): Promise<void> {
    await this.store.command(['PEXPIRE', key, String(this.store.ownerTtl)]);
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
