// Bus throughput: a burst published, then consumed (handler + ack), on the in-process bus and on
// Redis. Moved here from test/bus.test.ts, which checks only that a burst arrives in order.
import { Redis } from 'ioredis';
import { createMemoryBus, createRedisBus, type Bus } from '../src/bus/index.js';
import { silentLogger } from '../src/lib/index.js';
import { REDIS_URL, hasService, redisPrefix } from '../test/support/services.js';
import { waitFor } from '../test/support/wait-for.js';
import { writeResults } from './results.js';

const BURST = Number(process.env.BUS_BURST ?? 20_000);

interface Rates {
  messages: number;
  publishPerSecond: number;
  consumePerSecond: number;
}

async function measure(bus: Bus): Promise<Rates> {
  const stream = 'burst';
  let started = performance.now();
  // Chunks of concurrent publishes: pipelined on one Redis connection, still in order.
  for (let i = 0; i < BURST; i += 500)
    await Promise.all(
      Array.from({ length: Math.min(500, BURST - i) }, (_, k) => bus.publish(stream, { n: i + k })),
    );
  const publishMs = performance.now() - started;
  let count = 0;
  started = performance.now();
  const sub = bus.consume<{ n: number }>({
    stream,
    group: 'g',
    consumer: 'c',
    handler: async () => {
      count += 1;
    },
  });
  await waitFor('the burst consumed', () => count === BURST, {
    timeoutMs: 120_000,
    maxIntervalMs: 5,
  });
  const consumeMs = performance.now() - started;
  await sub.stop();
  const perSecond = (ms: number) => Math.round(BURST / (ms / 1000));
  return {
    messages: BURST,
    publishPerSecond: perSecond(publishMs),
    consumePerSecond: perSecond(consumeMs),
  };
}

const results: Record<string, Rates> = {};
const memory = createMemoryBus({ logger: silentLogger() });
results.memory = await measure(memory);
await memory.close();
if (await hasService('redis')) {
  const prefix = redisPrefix();
  const redis = createRedisBus({ url: REDIS_URL, prefix, logger: silentLogger() });
  try {
    results.redis = await measure(redis);
  } finally {
    await redis.close();
    const raw = new Redis(REDIS_URL, { protocol: 2 });
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  }
}
for (const [name, rates] of Object.entries(results))
  console.log(
    `[bus ${name}] ${rates.messages} messages: publish ${rates.publishPerSecond}/s, ` +
      `consume (handler + ack) ${rates.consumePerSecond}/s`,
  );
await writeResults('bus', results);
