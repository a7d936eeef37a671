// The operator commands of `pacer` (app, task, deployment, agent, artifact) on the generated
// OpenAPI client. Exit status: 0 done, 1 refused by the master or a failed deployment, 2 usage.
import {
  agentCommand,
  artifactCommand,
  deploymentCommand,
  taskCommand,
} from './cluster-commands.js';
import { agentTokenCommand } from './agent-token-command.js';
import { appCommand } from './app-commands.js';
import type { OperatorFlags } from './app-commands.js';
import { ApiRefusal, createPacerClient } from './client.js';
import { ConfigError } from '../../config.js';
import { loadTlsClient } from '../../lib/tls-client.js';
import { operatorSettings } from './settings.js';

/** The CA bundle of `--ca`; a file that is missing or holds no certificate is a usage error. */
async function caOf(file: string) {
  try {
    return await loadTlsClient(file);
  } catch (error) {
    throw new ConfigError(`--ca ${file}: ${(error as Error).message}`);
  }
}

export const OPERATOR_COMMANDS = [
  'app',
  'task',
  'deployment',
  'agent',
  'agent-token',
  'artifact',
] as const;

export async function runOperatorCommand(
  command: (typeof OPERATOR_COMMANDS)[number],
  args: string[],
  flags: OperatorFlags & {
    master?: string;
    token?: string;
    ca?: string;
    json?: boolean;
    hostname?: string;
  },
): Promise<number> {
  const configured = operatorSettings(flags);
  const settings = configured.ca
    ? { ...configured, dispatcher: (await caOf(configured.ca)).dispatcher }
    : configured;
  const ctx = { client: createPacerClient(settings), settings, flags };
  try {
    switch (command) {
      case 'app':
        return await appCommand(ctx, args);
      case 'task':
        return await taskCommand(ctx, args);
      case 'deployment':
        return await deploymentCommand(ctx, args);
      case 'agent':
        return await agentCommand(ctx, args);
      case 'agent-token':
        return await agentTokenCommand(ctx, args);
      case 'artifact':
        return await artifactCommand(ctx, args);
    }
  } catch (error) {
    if (error instanceof ApiRefusal) {
      process.stderr.write(`pacer: ${error.message}\n`);
      return 1;
    }
    if (error instanceof TypeError && (error as { cause?: { code?: string } }).cause?.code) {
      const code = (error as { cause: { code: string } }).cause.code;
      process.stderr.write(`pacer: cannot reach the master at ${settings.url} (${code})\n`);
      return 1;
    }
    throw error;
  }
}
