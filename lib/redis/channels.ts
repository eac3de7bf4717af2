/**
 * The names of a broker's Redis channels and keys, under its `channel` option.
 *
 * On one server they are plain (`sockjs:group:room`). On a Redis Cluster each channel is
 * one hash tag (`{sockjs:group:room}`): sharded pub/sub sends a channel's messages to the
 * shard of its slot only, so a group's traffic stays on one shard while different groups,
 * and the channels of different processes, spread over the shards. An owner record key
 * is touched alone (by one command, or a script with one key), so it needs no tag.
 */
export interface ChannelNames {
  /** Every process listens: publish(). */
  readonly all: string;
  /** The channel of one group. */
  group(name: string): string;
  /** The group a channel is of, or null when it is no group's. */
  groupOf(channel: string): string | null;
  /** The channel of one process: forwarding messages for it. */
  node(id: string): string;
  /** The owner record of a session; the session id is last and has no `/`. */
  sessionKey(prefix: string, sessionId: string): string;
}

export function channelNames(channel: string, sharded: boolean): ChannelNames {
  const [open, close] = sharded ? ['{', '}'] : ['', ''];
  const groupStart = `${open}${channel}:group:`;
  return {
    all: `${open}${channel}:all${close}`,
    group: (name) => groupStart + name + close,
    groupOf: (name) =>
      name.startsWith(groupStart) && name.endsWith(close) && name.length > groupStart.length + close.length
        ? name.slice(groupStart.length, name.length - close.length)
        : null,
    node: (id) => `${open}${channel}:node:${id}${close}`,
    sessionKey: (prefix, sessionId) => `${channel}:session:${prefix}/${sessionId}`,
  };
}
