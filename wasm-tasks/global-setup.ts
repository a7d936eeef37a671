// Vitest globalSetup: builds wasm-tasks/build/*.wasm before the tests when missing or stale.
import { buildWasmTasks } from './build.js';

export default async function setup(): Promise<void> {
  await buildWasmTasks();
}
