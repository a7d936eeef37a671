// Bootstrap: `PACER_BOOTSTRAP_TOKEN` creates the principal `bootstrap` with every right, once.
// Several masters starting together insert one row (ON CONFLICT DO NOTHING): no first-come race.
import type { Grant } from '../../domain/index.js';
import { Action } from '../../domain/index.js';
import type { Logger } from '../../lib/index.js';
import type { Store } from '../../store/index.js';
import { BOOTSTRAP_PRINCIPAL } from './authenticator.js';
import { hashSecret, verifySecret } from './secret-hash.js';

/** Every right: admin on `/`. */
export const ALL_RIGHTS: Grant[] = [{ path: '/', actions: [Action.ADMIN] }];

/** The shortest bootstrap secret accepted (a guessable secret would guard the whole cluster). */
export const MIN_BOOTSTRAP_SECRET_LENGTH = 16;

/**
 * Creates `bootstrap` with `secret` unless it exists. An existing one is kept as it is (its
 * secret may have been chosen by an earlier start); a different configured secret is warned about.
 * Returns true when this call created it.
 */
export async function bootstrapPrincipal(options: {
  store: Store;
  secret: string;
  logger: Logger;
}): Promise<boolean> {
  const { store, secret, logger } = options;
  const created = await store.principals.create({
    name: BOOTSTRAP_PRINCIPAL,
    secretHash: await hashSecret(secret),
    grants: ALL_RIGHTS,
  });
  if (created) {
    logger.info({ principal: BOOTSTRAP_PRINCIPAL }, 'authentication bootstrapped');
    return true;
  }
  const stored = await store.principals.get(BOOTSTRAP_PRINCIPAL);
  if (stored && !(await verifySecret(secret, stored.secretHash))) {
    logger.warn(
      { principal: BOOTSTRAP_PRINCIPAL },
      'the configured bootstrap token differs from the stored one; the stored one stays valid',
    );
  }
  return false;
}
