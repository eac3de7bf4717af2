import type { LogFunction } from '../options';

/**
 * Why a message read from Redis was dropped:
 * - `malformed`: not a message of the expected shape (a field missing, of the wrong type or too long)
 * - `unsigned`: no signed envelope, while the broker has a `secret`
 * - `forged`: a signed envelope whose signature does not match
 * - `stale`: signed longer ago (or further ahead) than the replay window allows
 * - `replayed`: signed, but not newer than a message already taken from the same sender
 * - `misaddressed`: well formed, but its sender may not address what it names
 * - `faulted`: handling it threw; the messages around it were still handled
 */
export type DropReason =
  'malformed' | 'unsigned' | 'forged' | 'stale' | 'replayed' | 'misaddressed' | 'faulted';

/** How many messages read from Redis a broker dropped since it started, by reason. */
export type DroppedMessages = Readonly<Record<DropReason, number>>;

/** A flood of bad messages writes at most one log line per reason in this time. */
const LOG_EVERY_MS = 60_000;

const EXPLANATIONS: Readonly<Record<DropReason, string>> = {
  malformed: 'a malformed message',
  unsigned: 'an unsigned message (this broker has a secret: every broker on the channel needs the same one)',
  forged: 'a message with a wrong signature (a different secret, or a forgery)',
  stale: 'a signed message outside the replay window (a replay, or clocks more than a minute apart)',
  replayed: 'a signed message already seen (a replay)',
  misaddressed: 'a message naming a session or request its sender may not address',
  faulted: 'a message whose handling failed',
};

/**
 * Counts the messages dropped at the Redis boundary, and reports them through the broker's
 * log: the first of each reason at once, then at most one line per reason per minute, so
 * that whoever can publish on Redis cannot flood the logs.
 */
export class DropLog {
  private readonly counts = new Map<DropReason, number>();
  /** Per reason: when it was last logged, and the drops since. */
  private readonly lastLogged = new Map<DropReason, { at: number; since: number }>();

  constructor(private readonly log: LogFunction) {}

  drop(reason: DropReason, detail?: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const now = Date.now();
    const last = this.lastLogged.get(reason);
    if (last !== undefined && now - last.at < LOG_EVERY_MS) {
      last.since++;
      return;
    }
    const more =
      last === undefined || last.since === 0 ? '' : ` (and ${last.since} more since the last report)`;
    // A detail may quote an error's message: a line stays a line whatever it says.
    const why = detail === undefined ? '' : `: ${detail.slice(0, 200)}`;
    this.lastLogged.set(reason, { at: now, since: 0 });
    this.log('error', `sockjs-express/redis: dropped ${EXPLANATIONS[reason]}${why}${more}`);
  }

  /** The counts so far. */
  snapshot(): DroppedMessages {
    const count = (reason: DropReason): number => this.counts.get(reason) ?? 0;
    return {
      malformed: count('malformed'),
      unsigned: count('unsigned'),
      forged: count('forged'),
      stale: count('stale'),
      replayed: count('replayed'),
      misaddressed: count('misaddressed'),
      faulted: count('faulted'),
    };
  }
}
