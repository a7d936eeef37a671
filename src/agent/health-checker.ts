// Probes a running task's health checks on their intervals and reports each result that
// matters to the master: every failure (it counts them) and every change back to healthy.
import type { HealthCheck } from '../domain/index.js';
import { probe, type ProbeContext, type ProbeResult } from './health-probe.js';

export interface HealthChecker {
  stop(): void;
}

export function startHealthChecker(options: {
  checks: HealthCheck[];
  context: ProbeContext;
  report: (check: number, result: ProbeResult) => void;
}): HealthChecker {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  options.checks.forEach((check, index) => {
    let lastAlive: boolean | undefined;
    let running = false;
    const tick = async () => {
      // A slow probe is not started again until it answers (no pile-up).
      if (running || stopped) return;
      running = true;
      const result = await probe(check, options.context);
      running = false;
      if (stopped) return;
      if (!result.alive || result.alive !== lastAlive) options.report(index, result);
      lastAlive = result.alive;
    };
    void tick();
    timers.push(setInterval(() => void tick(), Math.max(100, check.intervalSeconds * 1000)));
  });
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
    },
  };
}
