// Sends launch and kill commands to one agent's command stream. Secret values join a launch's
// environment only here, on their way onto the stream of the agent that runs the task: they are
// never in the instance, the app, an event or a log line.
import type { Bus, CommandMessage, TaskLaunchSpec } from '../bus/index.js';
import { topics } from '../bus/index.js';
import type { Logger } from '../lib/index.js';

/** Command streams are short-lived work queues; keep them bounded. */
const COMMANDS_MAX_LEN = 100_000;

/** Opens a secret by its path (`team-a/db-password`); throws when it is gone or cannot be read. */
export type OpenSecret = (path: string) => Promise<string>;

export interface LaunchCommand {
  taskId: string;
  spec: TaskLaunchSpec;
  /** Environment variables whose values are secrets: variable name → secret path. */
  secretEnv?: Record<string, string>;
}

export interface AgentCommands {
  /** Sends the launch; false when a secret it needs could not be opened (logged, not sent). */
  launch(agentId: string, command: LaunchCommand): Promise<boolean>;
  kill(agentId: string, taskId: string): Promise<void>;
  reconcile(agentId: string, taskIds: string[]): Promise<void>;
  /** Tells the agent its status updates up to `seq` are applied (its outbox forgets them). */
  ack(agentId: string, seq: number): Promise<void>;
  /** Asks the agent to send its unacknowledged status updates again, in order. */
  resend(agentId: string): Promise<void>;
}

export function createAgentCommands(options: {
  bus: Bus;
  openSecret?: OpenSecret;
  logger?: Logger;
}): AgentCommands {
  const { bus, openSecret, logger } = options;
  const send = async (agentId: string, message: CommandMessage) => {
    await bus.publish(topics.commands(agentId), message, { maxLen: COMMANDS_MAX_LEN });
  };

  /** The spec with its secret variables filled in, or undefined when one cannot be opened. */
  async function withSecrets(command: LaunchCommand): Promise<TaskLaunchSpec | undefined> {
    const refs = Object.entries(command.secretEnv ?? {});
    if (refs.length === 0) return command.spec;
    const env = { ...command.spec.env };
    for (const [name, path] of refs) {
      try {
        if (!openSecret) throw new Error('this master has no secrets key');
        env[name] = await openSecret(path);
      } catch (error) {
        // The path and the reason, never a value: the launch waits for the secret to return.
        logger?.error(
          { taskId: command.taskId, variable: name, secret: path, reason: String(error) },
          'a secret of the task cannot be opened; the task is not launched',
        );
        return undefined;
      }
    }
    return { ...command.spec, env };
  }

  return {
    async launch(agentId, command) {
      const spec = await withSecrets(command);
      if (!spec) return false;
      await send(agentId, { type: 'launch', taskId: command.taskId, spec });
      return true;
    },
    kill: (agentId, taskId) => send(agentId, { type: 'kill', taskId }),
    reconcile: (agentId, taskIds) => send(agentId, { type: 'reconcile', taskIds }),
    ack: (agentId, seq) => send(agentId, { type: 'ack', seq }),
    resend: (agentId) => send(agentId, { type: 'resend' }),
  };
}
