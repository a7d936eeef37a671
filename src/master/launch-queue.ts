// Marathon's launch rate limiter: a backoff delay per app config version (BEHAVIOUR.md (h)).
// Kept in memory, as Marathon does: a restarted master starts every app without delay.
import type { AppDefinition, Condition } from '../domain/index.js';
import type { Clock } from '../lib/index.js';

export interface LaunchDelay {
  appId: string;
  configVersion: string;
  delayMs: number;
  /** epoch ms before which no instance of this config is launched */
  deadline: number;
  lastChangedAt: number;
}

export interface LaunchQueue {
  /** Records how a task of `app` ended; failures and finishes add delay, kills do not. */
  onTerminal(app: AppDefinition, condition: Condition): void;
  /** A task reached staging/running: the deadline restarts from now with the same delay. */
  onActive(app: AppDefinition): void;
  /** epoch ms before which `app` must not launch (0 = now). */
  notBefore(app: AppDefinition): number;
  /** Drops the delay of an app; false when it had none. */
  reset(appId: string): boolean;
  get(appId: string): LaunchDelay | undefined;
}

const LIMIT_WORTHY: ReadonlySet<Condition> = new Set([
  'Failed',
  'Error',
  'Dropped',
  'Gone',
  'Finished',
]);

export function createLaunchQueue(options: { clock: Clock }): LaunchQueue {
  const { clock } = options;
  const delays = new Map<string, LaunchDelay>();

  /** The current delay of this config version, dropped when overdue or of an older config. */
  function current(app: AppDefinition): LaunchDelay | undefined {
    const delay = delays.get(app.id);
    if (!delay) return undefined;
    const overdue = clock.now() > delay.lastChangedAt + app.maxLaunchDelaySeconds * 1000;
    if (delay.configVersion !== app.versionInfo.lastConfigChangeAt || overdue) {
      delays.delete(app.id);
      return undefined;
    }
    return delay;
  }

  return {
    onTerminal(app, condition) {
      if (!LIMIT_WORTHY.has(condition)) return;
      const now = clock.now();
      const maxMs = app.maxLaunchDelaySeconds * 1000;
      const previous = current(app);
      const delayMs = previous
        ? Math.min(previous.delayMs * app.backoffFactor, maxMs)
        : Math.min(app.backoffSeconds * 1000, maxMs);
      delays.set(app.id, {
        appId: app.id,
        configVersion: app.versionInfo.lastConfigChangeAt,
        delayMs,
        deadline: now + delayMs,
        lastChangedAt: now,
      });
    },
    onActive(app) {
      const delay = current(app);
      if (delay) delay.deadline = clock.now() + delay.delayMs;
    },
    notBefore: (app) => current(app)?.deadline ?? 0,
    reset: (appId) => delays.delete(appId),
    get: (appId) => delays.get(appId),
  };
}
