// Small generic helpers: clock, logger, the package root. The linear-time regular expressions
// (linear-regex.ts) are imported from their file: re2js is not loaded where none is needed.
export * from './clock.js';
export * from './logger.js';
export * from './package-root.js';
export * from './prometheus-label.js';
export * from './code-points.js';
export * from './release-startup-garbage.js';
export * from './bounded-map.js';
