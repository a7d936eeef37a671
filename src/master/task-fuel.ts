// Fuel the running Wasm tasks used so far, as their agents last reported it in their offers (the
// leader's memory only: each offer replaces its agent's figures, so nothing outlives its task by
// more than one offer). Ended tasks' fuel is kept with their instance (`lastTaskFuel`).

export interface TaskFuel {
  /**
   * Replaces the figures of `agentId` with those of its latest offer. The caller passes only
   * entries it believes (tasks placed on that agent, values checked at the bus boundary).
   */
  onOffer(agentId: string, entries: readonly { taskId: string; fuelUsed: number }[]): void;
  /** Forgets an agent's figures (revoked, or its offers stopped). Idempotent. */
  forgetAgent(agentId: string): void;
  /** The latest figure for a running task, or undefined when its agent reported none. */
  fuelUsed(taskId: string): number | undefined;
}

export function createTaskFuel(): TaskFuel {
  const byAgent = new Map<string, string[]>();
  const byTask = new Map<string, number>();

  function forgetAgent(agentId: string): void {
    for (const taskId of byAgent.get(agentId) ?? []) byTask.delete(taskId);
    byAgent.delete(agentId);
  }

  return {
    onOffer(agentId, entries) {
      forgetAgent(agentId);
      if (entries.length === 0) return;
      byAgent.set(
        agentId,
        entries.map((e) => e.taskId),
      );
      for (const { taskId, fuelUsed } of entries) byTask.set(taskId, fuelUsed);
    },
    forgetAgent,
    fuelUsed: (taskId) => byTask.get(taskId),
  };
}
