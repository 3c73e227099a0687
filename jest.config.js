/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Every process a test starts is killed when its file ends; a file that leaked one fails, naming it.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/process-guard.ts'],
  // With the guard above naming leaked processes, nothing left behind may keep jest from exiting.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/helpers/hang-reporter.js'],
  // Real servers and emulators are started by the tests themselves; one file at a time is faster on 2 cores.
  maxWorkers: 1,
};
