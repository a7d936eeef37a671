// Public surface of API authentication: the edge wrapper, the authenticator, bootstrap, secrets.
export { authenticateRequests, isOpenPath } from './authenticate-request.js';
export type { Dispatch } from './authenticate-request.js';
export { BOOTSTRAP_PRINCIPAL, createAuthenticator } from './authenticator.js';
export type { Authenticator, AuthenticatorOptions } from './authenticator.js';
export { ALL_RIGHTS, MIN_BOOTSTRAP_SECRET_LENGTH, bootstrapPrincipal } from './bootstrap.js';
export { PRINCIPAL_NAME, nameInSecret, newSecret } from './secret-format.js';
export { hashSecret, verifySecret } from './secret-hash.js';
export { parseAuthorization } from './credentials.js';
export { canSeeEvent, canView, seesEverything, visibilityKey, visibleOnly } from './visibility.js';
