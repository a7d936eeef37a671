// The value a constraint field has on an agent: hostname, fault domain, or an attribute, written
// as Mesos writes attribute values (scalars as `0.###`), so that comparisons match Marathon's.
import type { Agent } from '../domain/index.js';

/** Fields that name the agent's hostname rather than an attribute. */
export function isHostnameField(field: string): boolean {
  return field === 'hostname' || field === '@hostname';
}

/**
 * The value of `field` on `agent`, undefined when the agent lacks it. `@region` and `@zone`
 * read the `region`/`zone` attributes (Pacer's fault domain).
 */
export function agentFieldValue(agent: Agent, field: string): string | undefined {
  if (isHostnameField(field)) return agent.hostname;
  const key = field === '@region' ? 'region' : field === '@zone' ? 'zone' : field;
  const value = agent.attributes[key];
  return value === undefined ? undefined : mesosValueString(value);
}

const SCALAR = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/**
 * A Mesos attribute value as Marathon compares it: a scalar formatted `0.###` (half-even),
 * anything else unchanged. `3.0` → `3`, `2.71828` → `2.718`, `eu-1` → `eu-1`.
 */
export function mesosValueString(value: string): string {
  if (!SCALAR.test(value)) return value;
  const scaled = Number(value) * 1000;
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return String(rounded / 1000);
}
