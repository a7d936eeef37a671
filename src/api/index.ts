// Public surface of the HTTP edge: createApi and the types of its dependencies.
export { createApi, DEFAULT_MAX_ARTIFACT_BYTES, DEFAULT_MAX_BODY_BYTES } from './server.js';
export type { ApiDeps, ApiInfo } from './deps.js';
export type * from './ports.js';
export { startHttpServer } from './http-server.js';
export type { TlsFiles } from './http-server.js';
export { bootstrapPrincipal, createAuthenticator } from './auth/index.js';
