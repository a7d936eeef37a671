// dependency-cruiser (part of `npm run lint`): the import graph rules ESLint cannot check.
// Type-only imports count (tsPreCompilationDeps): a cycle of types still ties two layers together.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import cycles anywhere: a cycle hides which module depends on which.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'master-not-api',
      severity: 'error',
      comment:
        'Layers point one way: api/ declares the ports it needs (api/ports.ts), master/ ' +
        'implements them without importing api/; cli/ wires the two together.',
      from: { path: '^src/master/' },
      to: { path: '^src/api/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
