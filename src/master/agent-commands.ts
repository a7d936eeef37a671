// Sends launch and kill commands to one agent's command stream. Secret values join a launch's
// environment only here, on their way onto the stream of the agent that runs the task: they are
// never in the instance, the app, an event or a log line.
import type { Bus, CommandMessage, TaskLaunchSpec } from '../bus/index.js';
import { topics } from '../bus/index.js';
import type { Logger } from '../lib/index.js';
import { setNewest } from '../lib/index.js';

/** Command streams are short-lived work queues; keep them bounded. */
const COMMANDS_MAX_LEN = 100_000;
/** Launches whose entry id is remembered (the oldest forgotten first): more than are in flight. */
const REMEMBERED_LAUNCHES = 200_000;

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
  /**
   * The entry id of the last launch of `taskId` this master sent (recent launches only): an offer
   * whose `commandsReadTo` is not older says the agent has read it.
   */
  launchIdOf(taskId: string): string | undefined;
  /** Sends the kill; resolves with its entry id in the agent's command stream. */
  kill(agentId: string, taskId: string): Promise<string>;
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
  const send = (agentId: string, message: CommandMessage) =>
    bus.publish(topics.commands(agentId), message, { maxLen: COMMANDS_MAX_LEN });
  /** Task → the entry id of its launch; insertion order is age. */
  const launchIds = new Map<string, string>();

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
      const id = await send(agentId, { type: 'launch', taskId: command.taskId, spec });
      setNewest(launchIds, [command.taskId, id], REMEMBERED_LAUNCHES);
      return true;
    },
    launchIdOf: (taskId) => launchIds.get(taskId),
    kill: (agentId, taskId) => send(agentId, { type: 'kill', taskId }),
    reconcile: async (agentId, taskIds) =>
      void (await send(agentId, { type: 'reconcile', taskIds })),
    ack: async (agentId, seq) => void (await send(agentId, { type: 'ack', seq })),
    resend: async (agentId) => void (await send(agentId, { type: 'resend' })),
  };
}
