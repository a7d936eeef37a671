// Small generic helpers: clock, logger.
export * from './clock.js';
export * from './logger.js';
export * from './package-root.js';
export * from './linear-regex.js';
