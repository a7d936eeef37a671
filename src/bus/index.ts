// Public surface of the bus: the interface, message types, stream names and both implementations.
export * from './bus.js';
export * from './messages.js';
export { createRedisBus } from './redis-bus.js';
export { createMemoryBus } from './memory-bus.js';
export type { RedisBusOptions } from './redis-bus.js';
export type { MemoryBusOptions } from './memory-bus.js';
export { BusDecodeError } from './message-codec.js';
export * from './message-schemas.js';
export { agentAclRules, agentRedisUser, createRedisAcl, masterAclRules } from './redis-acl.js';
export type { RedisAcl } from './redis-acl.js';
