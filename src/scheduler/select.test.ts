// Named scenarios for selection: limited visits, best score, seeded-order tie-break.
import { describe, expect, it } from 'vitest';
import { makeAgent } from './fixtures.js';
import { createPlacementState } from './placement-state.js';
import { candidateLimit, selectAgent } from './select.js';

const order = createPlacementState(
  Array.from({ length: 6 }, (_, i) => makeAgent({ agentId: `a${i}` })),
  [],
).slots;
const idOf = (index: number) => `a${index}`;

describe('selectAgent', () => {
  it('keeps the best score among the first `limit` feasible agents', () => {
    const scores = [1, 5, 3, 9, 0, 2];
    const selection = selectAgent({
      order,
      start: 0,
      limit: 3,
      isFeasible: () => true,
      score: (agent) => scores[agent.index]!,
    });
    expect(selection.agent?.agent.agentId).toBe(idOf(1));
    expect(selection.visited).toBe(3);
    expect(selection.next).toBe(3);
  });

  it('skips infeasible agents without counting them toward the limit', () => {
    const selection = selectAgent({
      order,
      start: 0,
      limit: 2,
      isFeasible: (agent) => agent.index >= 3,
      score: (agent) => agent.index,
    });
    expect(selection.agent?.agent.agentId).toBe(idOf(4));
    expect(selection.visited).toBe(5);
  });

  it('continues from the start position and wraps around', () => {
    const selection = selectAgent({
      order,
      start: 5,
      limit: 2,
      isFeasible: () => true,
      score: () => 0,
    });
    expect(selection.agent?.agent.agentId).toBe(idOf(5));
    expect(selection.next).toBe(1);
  });

  it('breaks a tie in favour of the agent met first', () => {
    const selection = selectAgent({
      order,
      start: 2,
      limit: 6,
      isFeasible: () => true,
      score: () => 1,
    });
    expect(selection.agent?.agent.agentId).toBe(idOf(2));
  });

  it('visits every agent and returns none when none is feasible', () => {
    const selection = selectAgent({
      order,
      start: 4,
      limit: 2,
      isFeasible: () => false,
      score: () => 0,
    });
    expect(selection).toEqual({ agent: undefined, visited: 6, next: 4 });
  });
});

describe('candidateLimit', () => {
  it('is max(2, ceil(log2 n))', () => {
    expect(candidateLimit(1)).toBe(2);
    expect(candidateLimit(8)).toBe(3);
    expect(candidateLimit(1000)).toBe(10);
  });
});
