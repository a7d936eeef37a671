// ESLint: typescript-eslint with the habits of STYLE.md, plus the layer rules between folders.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const only = (lib, home) => ({
  name: lib,
  message: `Only ${home} may import ${lib} (STYLE.md: one library per home).`,
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'drizzle/**',
      'wasm-tasks/build/**',
      'bin/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      'max-params': ['error', 3],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/api/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [only('hono', 'src/api'), only('@hono/node-server', 'src/api')] },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/api/**', 'src/bus/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            only('hono', 'src/api'),
            only('@hono/node-server', 'src/api'),
            only('ioredis', 'src/bus'),
            only('postgres', 'src/store'),
            only('@electric-sql/pglite', 'src/store'),
          ],
          patterns: [
            {
              group: ['drizzle-orm', 'drizzle-orm/*'],
              message: 'Only src/store may import drizzle.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!./*'], message: 'domain imports nothing from the project.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/scheduler/**/*.ts', 'src/deployment/plan.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\.\\./)+(api|agent|bus|cli|master|runtime|store|deployment|config)(/|\\.js$)',
              message: 'scheduler and deployment/plan.ts import only domain and lib.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/cli/**/*.ts',
      'bench/**/*.ts',
      'test/**/*.ts',
      'wasm-tasks/**/*.ts',
      '**/*.test.ts',
    ],
    rules: { 'no-console': 'off', 'max-params': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Tests read JSON bodies of HTTP answers; typing each one adds nothing the assertions miss.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  { files: ['*.js', '*.cjs', '*.config.ts'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
  },
);
