// Jest runs TypeScript as native ESM (NestJS 12 ships ESM only), hence ts-jest's ESM preset and
// `node --experimental-vm-modules` in the npm scripts.
const tsJest = ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  // The host imports the module by its package name; tests run it from source, so both see one copy.
  moduleNameMapper: {
    '^nest-prebuilds$': '<rootDir>/src/prebuilds/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'db',
      testMatch: [
        '<rootDir>/src/**/*.int-spec.ts',
        '<rootDir>/test/**/*.int-spec.ts',
        '<rootDir>/test/**/*.e2e-spec.ts',
      ],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
    {
      // Fault injection on a PostgreSQL cluster of its own (test/faults/private-cluster.ts), against the built host
      // app as a child process: needs `npm run build` (npm test's pretest) and /usr/lib/postgresql/15/bin.
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
  ],
};
