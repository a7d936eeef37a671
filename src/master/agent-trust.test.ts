// Dropped agent messages: every one counted, only the first of each (agent, reason) logged, so a
// hostile agent sending a million cannot flood the master's log.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createAgentTrust } from './agent-trust.js';

function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('agent trust', () => {
  it('counts every dropped message and logs the first of each agent and reason', () => {
    const { logger, lines } = capturingLogger();
    const trust = createAgentTrust({ logger });
    for (let i = 0; i < 100_000; i++) trust.drop({ agentId: 'agent-b', reason: 'foreign_task' });
    trust.drop({ agentId: 'agent-b', reason: 'invalid' });
    trust.drop({ agentId: 'agent-c', reason: 'invalid' });
    expect(trust.dropped('agent-b', 'foreign_task')).toBe(100_000);
    expect(trust.dropped('agent-b', 'invalid')).toBe(1);
    expect(trust.dropped('agent-a', 'invalid')).toBe(0);
    expect(lines).toHaveLength(3);
    expect(trust.counters()).toEqual([
      {
        name: 'agent_messages_dropped_total',
        labels: { agent_id: 'agent-b', reason: 'foreign_task' },
        value: 100_000,
      },
      {
        name: 'agent_messages_dropped_total',
        labels: { agent_id: 'agent-b', reason: 'invalid' },
        value: 1,
      },
      {
        name: 'agent_messages_dropped_total',
        labels: { agent_id: 'agent-c', reason: 'invalid' },
        value: 1,
      },
    ]);
  });
});
