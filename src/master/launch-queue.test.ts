// The launch queue's backoff per app config version, with a clock the test moves.
import { describe, expect, it } from 'vitest';
import { makeApp } from '../scheduler/fixtures.js';
import { createLaunchQueue } from './launch-queue.js';

function clockAt(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const app = makeApp({
  id: '/crashy',
  backoffSeconds: 1,
  backoffFactor: 2,
  maxLaunchDelaySeconds: 5,
});

describe('launch queue', () => {
  it('delays an app after a failure, and multiplies the delay with each further one', () => {
    const clock = clockAt(T0);
    const queue = createLaunchQueue({ clock });
    expect(queue.notBefore(app)).toBe(0);
    queue.onTerminal(app, 'Failed');
    expect(queue.notBefore(app)).toBe(T0 + 1_000);
    queue.onTerminal(app, 'Failed');
    expect(queue.notBefore(app)).toBe(T0 + 2_000);
    queue.onTerminal(app, 'Error');
    expect(queue.get(app.id)?.delayMs).toBe(4_000);
  });

  it('never delays longer than maxLaunchDelaySeconds', () => {
    const queue = createLaunchQueue({ clock: clockAt(T0) });
    for (let n = 0; n < 10; n++) queue.onTerminal(app, 'Failed');
    expect(queue.get(app.id)?.delayMs).toBe(5_000);
  });

  it('adds no delay for a kill the master asked for', () => {
    const queue = createLaunchQueue({ clock: clockAt(T0) });
    queue.onTerminal(app, 'Killed');
    expect(queue.notBefore(app)).toBe(0);
  });

  it('restarts the deadline from now when a task becomes active, with the same delay', () => {
    const clock = clockAt(T0);
    const queue = createLaunchQueue({ clock });
    queue.onTerminal(app, 'Failed');
    clock.advance(3_000);
    queue.onActive(app);
    expect(queue.notBefore(app)).toBe(T0 + 3_000 + 1_000);
  });

  it('forgets the delay of an older config, after maxLaunchDelaySeconds, and on reset', () => {
    const clock = clockAt(T0);
    const queue = createLaunchQueue({ clock });
    queue.onTerminal(app, 'Failed');
    const changed = {
      ...app,
      versionInfo: { ...app.versionInfo, lastConfigChangeAt: '2026-02-01T00:00:00.000Z' },
    };
    expect(queue.notBefore(changed)).toBe(0);
    queue.onTerminal(app, 'Failed');
    clock.advance(5_001);
    expect(queue.notBefore(app)).toBe(0);
    queue.onTerminal(app, 'Failed');
    expect(queue.reset(app.id)).toBe(true);
    expect(queue.reset(app.id)).toBe(false);
    expect(queue.notBefore(app)).toBe(0);
  });
});
