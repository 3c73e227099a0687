/**
 * Test projects (run one with `npx jest --selectProjects unit`; `npm test` runs them all, one file at a time).
 * The AWS emulators (DynamoDB Local on Java, s3rver) start only when a file of a project that needs them runs:
 * jest runs one globalSetup per distinct module among the selected projects.
 * @type {import('jest').Config}
 */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // Every process a test starts is killed when its file ends; a file that leaked one fails, naming it.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/process-guard.ts'],
};
const withEmulators = {
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
};
const project = (name, dirs, extra = {}) => ({
  ...base,
  ...extra,
  displayName: name,
  roots: dirs.map((d) => `<rootDir>/test/${d}`),
  testMatch: ['**/*.test.ts'],
});

module.exports = {
  testTimeout: 60_000,
  projects: [
    project('unit', ['unit']),
    project('contract', ['contract'], withEmulators),
    project('http', ['http'], withEmulators),
    project('lambda', ['lambda'], withEmulators),
    project('infra', ['infra']),
    project('aws-home', ['aws-home'], withEmulators),
    project('e2e', ['e2e']),
    project('chaos', ['chaos', 'power-loss'], withEmulators),
  ],
  // With the guard above naming leaked processes, nothing left behind may keep jest from exiting.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/helpers/hang-reporter.js'],
  // Real servers and emulators are started by the tests themselves; one file at a time is faster on 2 cores.
  maxWorkers: 1,
};
