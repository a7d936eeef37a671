import { describe, expect, it } from 'vitest';
import type { Deployment } from '../domain/index.js';
import { createPlanRenderer, deploymentPlanJson, plainRootGroup } from './plan-json.js';

const V = '2026-01-01T00:00:00.000Z';

function deployment(id: string): Deployment {
  return {
    id,
    version: V,
    affectedApps: ['/new'],
    steps: [{ actions: [{ action: 'StartApplication', app: '/new' }] }],
    currentStep: 1,
    original: [],
    target: [],
    createdAt: V,
  };
}

describe('createPlanRenderer', () => {
  it("renders a deployment's plan once for all its progress copies, as deploymentPlanJson does", () => {
    let renders = 0;
    const render = createPlanRenderer((apps) => (renders++, plainRootGroup(apps)));
    const started = deployment('d-1');
    const first = render(started);
    expect(render({ ...started, currentStep: 2 })).toBe(first);
    expect(first).toEqual(deploymentPlanJson(started, plainRootGroup));
    expect(renders).toBe(2); // original and target, once
  });

  it('renders anew a deployment whose plan differs', () => {
    const render = createPlanRenderer(plainRootGroup);
    const started = deployment('d-1');
    const first = render(started);
    const other = { ...started, id: 'd-2' };
    expect(render(other)).not.toBe(first);
    expect(render(other)).toEqual(deploymentPlanJson(other, plainRootGroup));
  });
});
