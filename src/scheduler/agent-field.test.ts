// Named scenarios for reading constraint fields off an agent.
import { describe, expect, it } from 'vitest';
import { agentFieldValue, mesosValueString } from './agent-field.js';
import { makeAgent } from './fixtures.js';

describe('agentFieldValue', () => {
  const agent = makeAgent({
    hostname: 'edge-1',
    attributes: { region: 'eu', zone: 'eu-a', rack: 'r1', cores: '8.0' },
  });

  it('reads the hostname for hostname and @hostname', () => {
    expect(agentFieldValue(agent, 'hostname')).toBe('edge-1');
    expect(agentFieldValue(agent, '@hostname')).toBe('edge-1');
  });

  it('reads the fault domain for @region and @zone from the region and zone attributes', () => {
    expect(agentFieldValue(agent, '@region')).toBe('eu');
    expect(agentFieldValue(agent, '@zone')).toBe('eu-a');
  });

  it('reads any other field as an attribute, undefined when missing', () => {
    expect(agentFieldValue(agent, 'rack')).toBe('r1');
    expect(agentFieldValue(agent, 'gpu')).toBeUndefined();
  });

  it('writes scalar attributes as Mesos does', () => {
    expect(agentFieldValue(agent, 'cores')).toBe('8');
  });
});

describe('mesosValueString', () => {
  it('formats scalars 0.### with half-even rounding and leaves text alone', () => {
    expect(mesosValueString('2.71828')).toBe('2.718');
    expect(mesosValueString('0.5')).toBe('0.5');
    expect(mesosValueString('0.0625')).toBe('0.062');
    expect(mesosValueString('0.1875')).toBe('0.188');
    expect(mesosValueString('eu-1')).toBe('eu-1');
    expect(mesosValueString('1.2.3')).toBe('1.2.3');
  });
});
