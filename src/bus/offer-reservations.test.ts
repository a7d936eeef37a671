// Reservations in offers are an agent's text: role names are checked at the bus boundary.
import { describe, expect, it } from 'vitest';
import { OfferMessageSchema } from './message-schemas.js';

const offer = (reservations: unknown) => ({
  type: 'offer',
  agentId: 'agent-1',
  hostname: 'edge-1',
  attributes: {},
  capabilities: ['wasm'],
  total: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] },
  free: { cpus: 4, memMiB: 4096, diskMiB: 0, ports: [] },
  reservations,
  runningTaskIds: [],
  sentAt: 1,
  startedAt: 1,
});

const web = { role: 'web', cpus: 1, memMiB: 1024, diskMiB: 0 };

describe('offer reservations', () => {
  it('accepts valid role names, prototype keys included', () => {
    const parsed = OfferMessageSchema.safeParse(
      offer([web, { ...web, role: '__proto__' }, { ...web, role: 'constructor' }]),
    );
    expect(parsed.success).toBe(true);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a space', 'a b'],
    ['a control character', 'a\u0000b'],
    ['a leading dash', '-web'],
    ['..', '..'],
    ['an overlong name', 'r'.repeat(129)],
  ])('refuses a role name with %s', (_what, role) => {
    expect(OfferMessageSchema.safeParse(offer([{ ...web, role }])).success).toBe(false);
  });

  it('refuses duplicate roles, bad amounts, more reserved than the total, and too many roles', () => {
    expect(OfferMessageSchema.safeParse(offer([web, web])).success).toBe(false);
    expect(OfferMessageSchema.safeParse(offer([{ ...web, cpus: -1 }])).success).toBe(false);
    expect(OfferMessageSchema.safeParse(offer([{ ...web, memMiB: 1e300 }])).success).toBe(false);
    const twice = [web, { ...web, role: 'db', cpus: 3.5 }];
    expect(OfferMessageSchema.safeParse(offer(twice)).success).toBe(false);
    const many = Array.from({ length: 33 }, (_, i) => ({
      ...web,
      role: `r${i}`,
      cpus: 0.1,
      memMiB: 1,
    }));
    expect(OfferMessageSchema.safeParse(offer(many)).success).toBe(false);
  });
});
