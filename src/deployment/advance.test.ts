import { describe, expect, it } from 'vitest';
import type { Deployment } from '../domain/index.js';
import { advance, heldApps } from './advance.js';
import type { ProgressView } from './advance.js';

const V = '2026-01-01T00:00:00.000Z';

function deployment(currentStep: number): Deployment {
  return {
    id: 'd-1',
    version: V,
    affectedApps: ['/old', '/new', '/top'],
    steps: [
      { actions: [{ action: 'StopApplication', app: '/old' }] },
      { actions: [{ action: 'StartApplication', app: '/new' }] },
      { actions: [{ action: 'ScaleApplication', app: '/new' }] },
      { actions: [{ action: 'RestartApplication', app: '/top' }] },
    ],
    currentStep,
    original: [],
    target: [],
    createdAt: V,
  };
}

function view(state: { apps: string[]; counts?: Record<string, number>; converged?: string[] }) {
  return {
    hasApp: (id) => state.apps.includes(id),
    instanceCount: (id) => state.counts?.[id] ?? 0,
    isConverged: (id) => state.converged?.includes(id) ?? false,
  } satisfies ProgressView;
}

describe('advance', () => {
  it('stays on a step while one of its actions is not done', () => {
    const progress = advance(deployment(1), view({ apps: ['/new'], counts: { '/old': 1 } }));
    expect(progress).toEqual({ deployment: deployment(1), completed: [], isFinished: false });
  });

  it('passes every step that is done, in order, and stops at the first that is not', () => {
    const progress = advance(deployment(0), view({ apps: ['/new', '/top'], converged: ['/new'] }));
    expect(progress.deployment.currentStep).toBe(4);
    expect(progress.completed.map((s) => s.actions[0]?.action)).toEqual([
      'StopApplication',
      'StartApplication',
      'ScaleApplication',
    ]);
    expect(progress.isFinished).toBe(false);
  });

  it('finishes when the last step is done; an app removed since counts as done', () => {
    const progress = advance(deployment(4), view({ apps: [] }));
    expect(progress).toMatchObject({ isFinished: true, completed: [deployment(4).steps[3]] });
  });

  it('holds the apps of the steps after the current one', () => {
    expect(heldApps([deployment(0)])).toEqual(new Set(['/new', '/top']));
    expect(heldApps([deployment(3)])).toEqual(new Set(['/top']));
    expect(heldApps([deployment(4)])).toEqual(new Set());
  });
});
