// Public surface of the bus: the interface, message types, stream names and both implementations.
// The master's zod schemas of what agents send are imported from message-schemas.ts itself: an
// agent loads this index, and zod added 4–7 MiB to its idle RSS (issue 14).
export * from './bus.js';
export * from './messages.js';
export { createRedisBus } from './redis-bus.js';
export { createMemoryBus } from './memory-bus.js';
export type { RedisBusOptions } from './redis-bus.js';
export type { MemoryBusOptions } from './memory-bus.js';
export { BusDecodeError } from './message-codec.js';
export * from './message-check.js';
export { isNewerStreamId } from './stream-id.js';
export { CommandMessageSchema } from './command-schema.js';
export { agentAclRules, agentRedisUser, createRedisAcl, masterAclRules } from './redis-acl.js';
export type { RedisAcl } from './redis-acl.js';
