// Apps that refer to secrets: whoever submits an app must be able to view every secret it names,
// because the app's command sees the values (a principal confined to /team-a must not launch a
// task that prints /team-b's password). The secret must exist now, so a typo answers 422 here
// instead of a task that never starts.
import type { Context } from 'hono';
import { Action, ForbiddenError, ValidationError, isAllowed } from '../../domain/index.js';
import type { Violation } from '../../domain/index.js';
import { principalOf } from '../authorize.js';
import type { ApiDeps } from '../deps.js';
import type { AppSpec } from '../../domain/index.js';
import type { AppFeatures } from './wire/app-features.js';

/** The optional features of this master: secrets when it has a secrets key. */
export function appFeaturesOf(deps: Pick<ApiDeps, 'secretBox'>): AppFeatures {
  return { secrets: deps.secretBox !== undefined };
}

/** Throws 422 or 403 unless every secret the apps declare can be launched by the caller. */
export async function checkAppSecrets(
  c: Context,
  deps: Pick<ApiDeps, 'store' | 'secretBox'>,
  apps: readonly Pick<AppSpec, 'id' | 'secrets'>[],
): Promise<void> {
  const principal = principalOf(c);
  const violations: Violation[] = [];
  for (const app of apps) {
    const declared = Object.entries(app.secrets ?? {});
    // Without a key the validator has refused secrets already (featureMessage).
    if (declared.length === 0 || !deps.secretBox) continue;
    for (const [name, { source }] of declared) {
      // Before the lookup: a 403 does not tell whether the secret exists.
      if (!isAllowed(principal, Action.VIEW, `/${source}`)) throw new ForbiddenError();
      if (!(await deps.store.secrets.get(source))) {
        violations.push({
          path: `/secrets/${name}/source`,
          errors: [`secret '${source}' does not exist`],
        });
      }
    }
  }
  if (violations.length > 0) throw new ValidationError(violations);
}
