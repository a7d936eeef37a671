// An agent as the master knows it: what it has, what is free, what it runs, when it was last heard.
import type { HostAccess } from './container-values.js';
import type { Resources } from './resources.js';
import type { RoleResources } from './roles.js';
import type { TaskKind } from './task-kind.js';

export interface Agent {
  agentId: string;
  hostname: string;
  /** `--attributes zone:eu,rack:r1`; `region`/`zone` keys double as the fault domain. */
  attributes: Record<string, string>;
  capabilities: TaskKind[];
  /** What the operator lets tasks reach on this host (from its offers; absent: nothing). */
  hostAccess?: HostAccess;
  /** Everything the agent gives tasks, reserved resources included. */
  total: Resources;
  /**
   * Free as of the agent's last offer, minus what the master placed since. In the scheduler's
   * snapshot (`AgentBook.available`) only the unreserved part, ports included: reserved is in
   * `freeReserved`.
   */
  free: Resources;
  /**
   * Parts of `total` reserved to roles (`--resources cpus(web):2;ports(web):[…];…`); absent: none.
   * `total.ports` holds the reserved ranges too.
   */
  reservations?: RoleResources[];
  /** What is free of each reservation (snapshots only, from `AgentBook.available`). */
  freeReserved?: RoleResources[];
  runningTaskIds: string[];
  registeredAt: string;
  lastHeartbeatAt: string;
  state: 'active' | 'unreachable';
}

/** Parses `zone:eu,rack:r1` (the agent's `--attributes` flag). */
export function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0) throw new Error(`Invalid attribute '${pair}' (expected key:value)`);
    attributes[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return attributes;
}
