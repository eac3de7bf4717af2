/**
 * sockjs-express/redis: messages to connections on every process, over Redis pub/sub, and
 * forwarding of sessions between processes (so a balancer need not be sticky). Loaded
 * only by applications that import it; the main entry never does.
 * @packageDocumentation
 */
export { createBroker, type Broker, type BrokerOptions, type ConnectionSource } from './broker';
export type { ChannelListener } from './client';
export type {
  RedisClient,
  NodeRedisClient,
  NodeRedisCluster,
  IoredisClient,
  IoredisCluster,
  RedisSubscriber,
  NodeRedisClusterSubscriber,
  IoredisSubscriber,
  IoredisClusterSubscriber,
} from './clients';
export type { DroppedMessages, DropReason } from './drops';
