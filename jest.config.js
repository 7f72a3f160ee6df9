// Two projects: unit tests beside the code, end-to-end tests against a real Kafka broker under test/.
// The global setup starts that broker once for the whole run (unless KAFKA_BROKERS points at one) and
// the global teardown stops it, pass or fail.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: false }];

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  maxWorkers: 1,
  // Per-project testTimeout is ignored by Jest; end-to-end tests against a broker need more than 5 s.
  testTimeout: 60000,
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
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/failover/'],
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
    {
      // A 3-node cluster of its own (started and stopped by the test file), with nodes killed under load.
      displayName: 'failover',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/failover/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
      setupFiles: ['<rootDir>/test/setup/env.ts'],
    },
  ],
};
