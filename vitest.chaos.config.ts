// Vitest for `npm run chaos`: the fault-injection suite (test/chaos/*.chaos.ts), one file at a
// time and its tests in order (they share one cluster), apart from `npm test` (whose short run
// is test/chaos-pause.test.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['wasm-tasks/global-setup.ts'],
  },
});
