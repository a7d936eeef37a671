// The launch sender: secret variables are opened on the way onto the agent's stream, and a launch
// whose secret cannot be opened is not sent, with a log line that names the secret, not a value.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CommandMessage, TaskLaunchSpec } from '../bus/index.js';
import { createMemoryBus, topics } from '../bus/index.js';
import { createAgentCommands } from './agent-commands.js';

const spec: TaskLaunchSpec = {
  kind: 'wasm',
  appId: '/a',
  appVersion: '2026-01-01T00:00:00.000Z',
  cmd: 'a.wasm',
  env: { PLAIN: 'x' },
  labels: {},
  fetch: [],
  resources: { cpus: 0.1, memMiB: 16, diskMiB: 0 },
  ports: [],
  healthChecks: [],
};

async function sent(bus: ReturnType<typeof createMemoryBus>): Promise<CommandMessage[]> {
  return (await bus.read<CommandMessage>(topics.commands('agent-1'))).map((e) => e.message);
}

describe('agent commands', () => {
  it('fills secret variables in only when sending the launch', async () => {
    const bus = createMemoryBus();
    const commands = createAgentCommands({
      bus,
      openSecret: async (path) => `value-of-${path}`,
    });
    const launched = await commands.launch('agent-1', {
      taskId: 't1',
      spec,
      secretEnv: { DB: 'team/db' },
    });
    expect(launched).toBe(true);
    const [message] = await sent(bus);
    expect(message).toMatchObject({
      type: 'launch',
      taskId: 't1',
      spec: { env: { PLAIN: 'x', DB: 'value-of-team/db' } },
    });
    // The caller's spec is not changed: it may be kept and logged.
    expect(spec.env).toEqual({ PLAIN: 'x' });
  });

  it('sends nothing when a secret cannot be opened, and logs its path only', async () => {
    const bus = createMemoryBus();
    let log = '';
    const logger = pino({ level: 'info' }, { write: (line: string) => (log += line) });
    const commands = createAgentCommands({
      bus,
      logger,
      openSecret: async (path) => {
        if (path === 'team/gone') throw new Error(`secret '${path}' does not exist`);
        return 'never-logged-value';
      },
    });
    const launched = await commands.launch('agent-1', {
      taskId: 't2',
      spec,
      secretEnv: { OK: 'team/ok', GONE: 'team/gone' },
    });
    expect(launched).toBe(false);
    expect(await sent(bus)).toEqual([]);
    expect(log).toContain('team/gone');
    expect(log).not.toContain('never-logged-value');
    // A master without a secrets key cannot launch such a task either.
    const keyless = createAgentCommands({ bus, logger });
    expect(await keyless.launch('agent-1', { taskId: 't3', spec, secretEnv: { A: 'x' } })).toBe(
      false,
    );
    expect(await keyless.launch('agent-1', { taskId: 't4', spec })).toBe(true);
  });
});
