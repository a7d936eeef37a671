// `pacer agent-token create --hostname <name>`: a one-time join token for an agent, printed
// alone (`--json`: the answer), on the operator client, so `--master`, `--token`, `--ca` and the
// config file work as for every other command.
import { ConfigError } from '../../config.js';
import type { PacerClient } from './client.js';
import { expectData } from './client.js';
import type { OperatorSettings } from './settings.js';

const USAGE = 'Usage: pacer agent-token create --hostname <name>';

export async function agentTokenCommand(
  ctx: { client: PacerClient; settings: OperatorSettings; flags: { hostname?: string } },
  [action]: string[],
): Promise<number> {
  if (action !== 'create') throw new ConfigError(USAGE);
  const { hostname } = ctx.flags;
  if (!hostname) throw new ConfigError(`--hostname is required. ${USAGE}`);
  const answer = expectData(await ctx.client.POST('/v2/acl/agent-tokens', { body: { hostname } }));
  process.stdout.write(ctx.settings.json ? `${JSON.stringify(answer)}\n` : `${answer.token}\n`);
  return 0;
}
