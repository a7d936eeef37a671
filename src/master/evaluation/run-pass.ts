// One pass, carried out: take the snapshot, plan, submit every intent (one write between them),
// then send the commands of the intents that applied. Placements are stored before their
// launch is sent: a master that dies in between finds them Provisioned, and the agents'
// offers tell whether the launch arrived. A pass along a deploy (`pending`) submits in the turn
// the deploy's intent was submitted, so both share that one write.
import type { Logger } from '../../lib/index.js';
import type { AgentBook } from '../agent-book.js';
import type { AgentCommands } from '../agent-commands.js';
import type { Applier } from '../applier/index.js';
import type { LaunchQueue } from '../launch-queue.js';
import type { QueueView } from '../launch-queue-view.js';
import { planPass } from './plan-pass.js';
import type { PassSnapshot, PendingDeploy } from './snapshot.js';
import { takeSnapshot } from './snapshot.js';

export interface PassDeps {
  applier: Applier;
  agents: AgentBook;
  commands: AgentCommands;
  launchQueue: LaunchQueue;
  queueView: QueueView;
  logger: Logger;
  algorithm?: 'binpack' | 'spread';
}

export interface PassOutcome {
  /**
   * Apps whose intent was refused (their state moved meanwhile), or whose deployment advanced
   * before it was stored: the next pass retries them.
   */
  retry: string[];
  /** Whether a deployment's intent was refused. */
  isDeploymentRefused: boolean;
}

export async function runPass(
  deps: PassDeps,
  pass: Pick<PassSnapshot, 'scope' | 'now' | 'seed'> & { pending?: PendingDeploy },
): Promise<PassOutcome> {
  const { applier, commands, queueView, logger } = deps;
  const snapshot = takeSnapshot(deps, { ...pass, algorithm: deps.algorithm });
  const plan = planPass(snapshot);
  queueView.record(plan.placement, pass.now);
  const placed = plan.placement.placements.length;
  const unplaced = plan.placement.unplaced.length;
  // The seed and the snapshot replay the pass (plan-pass.test.ts shows how); a pass along a
  // deploy's write read that deploy too.
  const logged = { seed: pass.seed, alongDeployment: pass.pending?.deployment?.id };
  if (placed > 0) logger.info({ ...logged, placed, unplaced }, 'placement pass');
  else if (unplaced > 0) logger.debug({ ...logged, unplaced }, 'placement pass placed none');

  // Submitted in one turn: the applier stores them in one write.
  const results = await Promise.all(plan.intents.map((planned) => applier.submit(planned.intent)));
  const retry = [...plan.deferred];
  let isDeploymentRefused = false;
  // A launch whose secret cannot be opened is not sent (logged by the sender).
  const launches: Promise<boolean>[] = [];
  const kills: { agentId: string; taskId: string }[] = [];
  plan.intents.forEach((planned, n) => {
    const result = results[n];
    if (!result?.ok) {
      if (planned.appId !== undefined) retry.push(planned.appId);
      else isDeploymentRefused = true;
      return;
    }
    for (const launch of planned.launches) launches.push(commands.launch(launch.agentId, launch));
    kills.push(...planned.kills);
    if (planned.finishes) logger.info({ deploymentId: planned.finishes }, 'deployment finished');
  });
  await Promise.all(launches);
  for (const kill of kills) await commands.kill(kill.agentId, kill.taskId);
  return { retry, isDeploymentRefused };
}
