// Three tiers, run in this order (test/setup/tier-sequencer.js):
//   unit    src/**/*.spec.ts beside the code, boundaries faked;
//   fast    test/fast/**/*.e2e-spec.ts: the whole app over HTTP with Kafka unreachable (validation, API keys,
//           the OpenAPI document, deploy files), for everything that proves no Kafka behaviour;
//   e2e     test/**/*.e2e-spec.ts against a real Kafka broker, read back with kcat;
//   failover test/failover/: a 3-node cluster the test file starts itself, nodes killed under load.
// Global setup is per project, and Jest runs a project's only when the run has tests of it: the broker is
// started (and stopped by the teardown) only for the e2e tier, so `jest --selectProjects unit fast` needs none.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: false }];

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 1,
  // Per-project testTimeout is ignored by Jest; end-to-end tests against a broker need more than 5 s.
  testTimeout: 60000,
  testSequencer: '<rootDir>/test/setup/tier-sequencer.js',
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['reflect-metadata'],
    },
    {
      displayName: 'fast',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/fast/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/setup/tools-setup.ts',
      setupFiles: ['<rootDir>/test/setup/env.ts', '<rootDir>/test/setup/env-fast.ts'],
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/fast/', '<rootDir>/test/failover/'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
    {
      // A 3-node cluster of its own (started and stopped by the test file), with nodes killed under load.
      displayName: 'failover',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/failover/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/test/setup/tools-setup.ts',
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
  ],
};
