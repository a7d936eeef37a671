// schedule(snapshot) → Plan: places each request on the best feasible agent, consuming the
// agent's free resources for the requests after it. Pure and deterministic.
import type { Agent, AppDefinition, PortRange } from '../domain/index.js';
import { portCount, taskKindOf, withoutPorts } from '../domain/index.js';
import type { Placement, Plan, RejectReason, SchedulingSnapshot, Unplaced } from './types.js';

/** Allowance for float sums such as 10 × 0.1 cpus on a 1-cpu agent. */
const EPSILON = 1e-9;

interface AgentFree {
  agent: Agent;
  cpus: number;
  memMiB: number;
  diskMiB: number;
  ports: PortRange[];
}

/**
 * Places every request of the snapshot, in order, on a feasible agent (active, with the app's
 * task kind, enough cpus, memory, disk and ports), preferring the fullest agent (bin-pack).
 * Requests that fit nowhere are listed in `unplaced` with the reasons agents refused them.
 */
export function schedule(snapshot: SchedulingSnapshot): Plan {
  const agents: AgentFree[] = snapshot.agents.map((agent) => ({
    agent,
    cpus: agent.free.cpus,
    memMiB: agent.free.memMiB,
    diskMiB: agent.free.diskMiB,
    ports: agent.free.ports,
  }));
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  for (const request of snapshot.requests) {
    const reasons: Partial<Record<RejectReason, number>> = {};
    let best: { free: AgentFree; ports: number[]; score: number } | undefined;
    for (const free of agents) {
      const refusal = refusalOf(free, request.app);
      if (typeof refusal === 'string') {
        reasons[refusal] = (reasons[refusal] ?? 0) + 1;
        continue;
      }
      const score = binpackScore(free, request.app);
      if (!best || score > best.score) best = { free, ports: refusal, score };
    }
    if (!best) {
      unplaced.push({
        instanceId: request.instanceId,
        appId: request.app.id,
        reasons,
        agentsEvaluated: agents.length,
      });
      continue;
    }
    const { free, ports } = best;
    free.cpus -= request.app.cpus;
    free.memMiB -= request.app.mem;
    free.diskMiB -= request.app.disk;
    free.ports = withoutPorts(free.ports, ports);
    placements.push({
      instanceId: request.instanceId,
      appId: request.app.id,
      agentId: free.agent.agentId,
      hostname: free.agent.hostname,
      ports,
    });
  }
  return { placements, unplaced };
}

/** The first reason the agent cannot take the app, or the host ports it would get. */
function refusalOf(free: AgentFree, app: AppDefinition): RejectReason | number[] {
  if (free.agent.state !== 'active') return 'AgentMaintenance';
  if (!free.agent.capabilities.includes(taskKindOf(app))) return 'UnfulfilledRole';
  if (app.cpus > free.cpus + EPSILON) return 'InsufficientCpus';
  if (app.mem > free.memMiB + EPSILON) return 'InsufficientMemory';
  if (app.disk > free.diskMiB + EPSILON) return 'InsufficientDisk';
  return choosePorts(free.ports, app) ?? 'InsufficientPorts';
}

/** One host port per port definition: literal with `requirePorts`, else the lowest free ones. */
function choosePorts(ranges: PortRange[], app: AppDefinition): number[] | undefined {
  const definitions = app.portDefinitions ?? [];
  if (definitions.length === 0) return [];
  if (portCount(ranges) < definitions.length) return undefined;
  const inRanges = (port: number) => ranges.some(([b, e]) => port >= b && port <= e);
  const chosen: number[] = [];
  const literal = new Set(
    app.requirePorts ? definitions.map((d) => d.port).filter((p) => p !== 0) : [],
  );
  for (const port of literal) if (!inRanges(port)) return undefined;
  let dynamic = withoutPorts(ranges, literal);
  for (const definition of definitions) {
    if (app.requirePorts && definition.port !== 0) {
      chosen.push(definition.port);
      continue;
    }
    const first = dynamic[0];
    if (!first) return undefined;
    chosen.push(first[0]);
    dynamic = withoutPorts(dynamic, [first[0]]);
  }
  return chosen;
}

/** Higher for an agent that is fuller after the placement (Nomad's `ScoreFitBinPack`). */
function binpackScore(free: AgentFree, app: AppDefinition): number {
  const { total } = free.agent;
  const freeCpu = total.cpus > 0 ? (free.cpus - app.cpus) / total.cpus : 0;
  const freeMem = total.memMiB > 0 ? (free.memMiB - app.mem) / total.memMiB : 0;
  return 20 - (10 ** freeCpu + 10 ** freeMem);
}
