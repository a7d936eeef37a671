// Generated secrets name their principal (`pacer_<name>_<random>`), so a Bearer or `token=`
// credential, which carries only the secret, costs one lookup and one scrypt, never a scan.
import { randomBytes } from 'node:crypto';

const PREFIX = 'pacer_';
/** 32 random bytes in base64url: 43 characters. */
const RANDOM_BYTES = 32;
const RANDOM_CHARS = 43;

/** Principal names: what a token may be called (and so what a secret may embed). */
export const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A new secret for principal `name` (a valid PRINCIPAL_NAME). */
export function newSecret(name: string): string {
  return `${PREFIX}${name}_${randomBytes(RANDOM_BYTES).toString('base64url')}`;
}

/**
 * The principal a secret names, or undefined when it is not in Pacer's format (the bootstrap
 * secret, chosen by the operator, usually is not: the caller then tries `bootstrap`).
 */
export function nameInSecret(secret: string): string | undefined {
  if (!secret.startsWith(PREFIX) || secret.length < PREFIX.length + RANDOM_CHARS + 2) {
    return undefined;
  }
  const cut = secret.length - RANDOM_CHARS - 1;
  if (secret[cut] !== '_') return undefined;
  const name = secret.slice(PREFIX.length, cut);
  return PRINCIPAL_NAME.test(name) ? name : undefined;
}
