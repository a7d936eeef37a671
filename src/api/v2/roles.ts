// /v2/quota and /v2/weights (Pacer's own, admin only): quota (guarantees, limits) and DRF weights
// per role, kept by the master's applier in Postgres and used by the scheduler's fair share.
import { Hono } from 'hono';
import type { Context } from 'hono';
import {
  Action,
  NotFoundError,
  UNRESERVED_ROLE,
  UnavailableError,
  ValidationError,
  roleNameErrors,
} from '../../domain/index.js';
import { authorize } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import type { RolePoliciesPort } from '../ports.js';
import { readJson } from '../request.js';
import type { PathParam } from '../route.js';
import { defineRoutes, on } from '../route.js';
import { INVALID, error, json } from '../route-docs.js';
import { QuotaWriteSchema, WeightWriteSchema, toQuota, toQuotaJson } from './wire/role-schemas.js';
import { parseWire } from './wire/violations.js';

/** A role name: Mesos's rules (no `/`, spaces, controls, `.`/`..`, leading `-`); 422 otherwise. */
const ROLE: PathParam = {
  description: 'A role name (Mesos rules: no `/`, whitespace or control characters).',
  check: (role) => {
    const errors = roleNameErrors(role);
    return errors.length > 0 ? new ValidationError([{ path: '/role', errors }]) : undefined;
  },
};

const ADMIN_ONLY = { '403': error('Not an admin.') };

/** The operations of `/v2/quota` and `/v2/weights`. */
export const ROLES_ROUTES = defineRoutes({
  listQuota: {
    method: 'get',
    path: '/v2/quota',
    operationId: 'listQuota',
    summary: 'Every role with a quota (admin)',
    tag: 'pacer',
    answers: { '200': json('The quotas.', 'QuotaList'), ...ADMIN_ONLY },
  },
  getQuota: {
    method: 'get',
    path: '/v2/quota/{role}',
    operationId: 'getQuota',
    summary: 'A role’s quota; empty guarantees and limits when none is set (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    answers: { '200': json('The quota.', 'Quota'), ...ADMIN_ONLY, '422': INVALID['422'] },
  },
  putQuota: {
    method: 'put',
    path: '/v2/quota/{role}',
    operationId: 'putQuota',
    summary: 'Set a role’s quota: guarantees held for it, limits never exceeded (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    body: { schema: 'QuotaWrite' },
    answers: { '200': json('The quota as stored.', 'Quota'), ...INVALID, ...ADMIN_ONLY },
  },
  deleteQuota: {
    method: 'delete',
    path: '/v2/quota/{role}',
    operationId: 'deleteQuota',
    summary: 'Remove a role’s quota (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    answers: {
      '204': { description: 'Removed.' },
      ...ADMIN_ONLY,
      '404': error('The role has no quota.'),
      '422': INVALID['422'],
    },
  },
  listWeights: {
    method: 'get',
    path: '/v2/weights',
    operationId: 'listWeights',
    summary: 'Every role with a weight set (admin)',
    tag: 'pacer',
    answers: { '200': json('The weights.', 'WeightList'), ...ADMIN_ONLY },
  },
  getWeight: {
    method: 'get',
    path: '/v2/weights/{role}',
    operationId: 'getWeight',
    summary: 'A role’s DRF weight (1 unless set) (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    answers: { '200': json('The weight.', 'Weight'), ...ADMIN_ONLY, '422': INVALID['422'] },
  },
  putWeight: {
    method: 'put',
    path: '/v2/weights/{role}',
    operationId: 'putWeight',
    summary: 'Set a role’s DRF weight (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    body: { schema: 'WeightWrite' },
    answers: { '200': json('The weight as stored.', 'Weight'), ...INVALID, ...ADMIN_ONLY },
  },
  deleteWeight: {
    method: 'delete',
    path: '/v2/weights/{role}',
    operationId: 'deleteWeight',
    summary: 'Set a role’s DRF weight back to 1 (admin)',
    tag: 'pacer',
    params: { role: ROLE },
    answers: {
      '204': { description: 'Back to 1.' },
      ...ADMIN_ONLY,
      '404': error('The role has no weight set.'),
      '422': INVALID['422'],
    },
  },
});

const roleOf = (c: Context): string => c.req.param('role') ?? '';

export function rolesRoutes(deps: ApiDeps): Hono {
  const routes = new Hono();
  const roles = (c: Context): RolePoliciesPort => {
    // Every operation is for admins only: who may hold how much of the cluster is theirs to say.
    authorize(c, Action.ADMIN);
    if (!deps.roles) throw new UnavailableError('This master keeps no role policies');
    return deps.roles;
  };

  on(routes, ROLES_ROUTES.listQuota, (c) => {
    const policies = roles(c).list();
    const quotas = policies.filter((p) => p.quota !== undefined).map((p) => toQuotaJson(p.role, p));
    return c.json({ quotas });
  });

  on(routes, ROLES_ROUTES.getQuota, (c) => {
    const port = roles(c);
    const role = roleOf(c);
    return c.json(toQuotaJson(role, port.get(role)));
  });

  on(routes, ROLES_ROUTES.putQuota, async (c) => {
    const port = roles(c);
    const role = roleOf(c);
    if (role === UNRESERVED_ROLE)
      throw new ValidationError([
        {
          path: '/role',
          errors: [`Quota cannot be set for the default role '${UNRESERVED_ROLE}'.`],
        },
      ]);
    const { quota, violations } = toQuota(parseWire(QuotaWriteSchema, await readJson(c)));
    if (violations.length > 0) throw new ValidationError(violations);
    await port.setQuota(role, quota);
    return c.json(toQuotaJson(role, port.get(role)));
  });

  on(routes, ROLES_ROUTES.deleteQuota, async (c) => {
    const port = roles(c);
    const role = roleOf(c);
    if (port.get(role)?.quota === undefined) throw new NotFoundError(`Role '${role}' has no quota`);
    await port.setQuota(role, null);
    return c.body(null, 204);
  });

  on(routes, ROLES_ROUTES.listWeights, (c) => {
    const weights = roles(c)
      .list()
      .filter((p) => p.weight !== undefined)
      .map((p) => ({ role: p.role, weight: p.weight ?? 1 }));
    return c.json({ weights });
  });

  on(routes, ROLES_ROUTES.getWeight, (c) => {
    const port = roles(c);
    const role = roleOf(c);
    return c.json({ role, weight: port.get(role)?.weight ?? 1 });
  });

  on(routes, ROLES_ROUTES.putWeight, async (c) => {
    const port = roles(c);
    const role = roleOf(c);
    const { weight } = parseWire(WeightWriteSchema, await readJson(c));
    await port.setWeight(role, weight);
    return c.json({ role, weight });
  });

  on(routes, ROLES_ROUTES.deleteWeight, async (c) => {
    const port = roles(c);
    const role = roleOf(c);
    if (port.get(role)?.weight === undefined)
      throw new NotFoundError(`Role '${role}' has no weight set`);
    await port.setWeight(role, null);
    return c.body(null, 204);
  });

  return routes;
}
