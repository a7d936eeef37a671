// The queue view: the last round's refusals, every round of a launch attempt added up, and an
// attempt that ends once no instance of the app waits.
import { describe, expect, it } from 'vitest';
import { makeAgent, makeApp } from '../scheduler/fixtures.js';
import { schedule } from '../scheduler/index.js';
import type { Plan, PlacementRequest } from '../scheduler/index.js';
import { systemClock } from '../lib/index.js';
import { createLaunchQueue } from './launch-queue.js';
import { createQueueView } from './launch-queue-view.js';

const paperAgent = makeAgent({ total: { cpus: 9, memMiB: 18 * 1024, diskMiB: 0, ports: [] } });
const a = makeApp({ id: '/a/app', role: 'a', cpus: 1, mem: 4 * 1024 });
const b = makeApp({ id: '/b/app', role: 'b', cpus: 3, mem: 1024 });
const want = (app: typeof a, count: number): PlacementRequest[] =>
  Array.from({ length: count }, (_, n) => ({ instanceId: `${app.id}-${n}`, app }));

/** A round of the DRF paper's cluster: B waits because A, with the lower share, went first. */
const paperRound = (): Plan =>
  schedule({
    apps: [a, b],
    instances: [],
    agents: [paperAgent],
    requests: [...want(b, 4), ...want(a, 4)],
    now: 0,
    seed: 'queue',
  });

describe('queue view', () => {
  const view = () => createQueueView({ launchQueue: createLaunchQueue({ clock: systemClock }) });

  it('says a waiting instance lost to fairness, and adds up the rounds of its attempt', () => {
    const queue = view();
    queue.record(paperRound(), 1000);
    queue.record(paperRound(), 2000);
    const b1 = queue.rejections('/b/app');
    expect(b1?.reasons).toMatchObject({ DeclinedFairShare: 1, InsufficientCpus: 1 });
    expect(b1?.at).toBe(2000);
    expect(b1?.attempt).toEqual({
      agentsEvaluated: 2,
      reasons: { DeclinedFairShare: 2, InsufficientCpus: 2 },
    });
    // Some of B was placed in the rounds: the time of that shows as its last used offer.
    expect(b1?.lastPlacedAt).toBe(2000);
  });

  it('ends the attempt when a round leaves nothing of the app waiting', () => {
    const queue = view();
    queue.record(paperRound(), 1000);
    queue.record(
      {
        placements: [
          {
            instanceId: 'x',
            appId: '/b/app',
            agentId: 'agent-1',
            hostname: 'h',
            ports: [],
            role: 'b',
          },
        ],
        unplaced: [],
      },
      2000,
    );
    expect(queue.rejections('/b/app')).toBeUndefined();
    queue.record(paperRound(), 3000);
    expect(queue.rejections('/b/app')?.attempt.agentsEvaluated).toBe(1);
  });
});
