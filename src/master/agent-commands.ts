// Sends launch and kill commands to one agent's command stream.
import type { Bus, CommandMessage, TaskLaunchSpec } from '../bus/index.js';
import { topics } from '../bus/index.js';

/** Command streams are short-lived work queues; keep them bounded. */
const COMMANDS_MAX_LEN = 100_000;

export interface AgentCommands {
  launch(agentId: string, command: { taskId: string; spec: TaskLaunchSpec }): Promise<void>;
  kill(agentId: string, taskId: string): Promise<void>;
  reconcile(agentId: string, taskIds: string[]): Promise<void>;
}

export function createAgentCommands(options: { bus: Bus }): AgentCommands {
  const { bus } = options;
  const send = async (agentId: string, message: CommandMessage) => {
    await bus.publish(topics.commands(agentId), message, { maxLen: COMMANDS_MAX_LEN });
  };
  return {
    launch: (agentId, { taskId, spec }) => send(agentId, { type: 'launch', taskId, spec }),
    kill: (agentId, taskId) => send(agentId, { type: 'kill', taskId }),
    reconcile: (agentId, taskIds) => send(agentId, { type: 'reconcile', taskIds }),
  };
}
