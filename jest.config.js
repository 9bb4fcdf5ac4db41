// Tests run on the compiled output (`npm test` builds first), so the typecheck is part of every run
// and no TypeScript transform sits between jest and the code under test.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  // The hardening suite (attacks, faults: several minutes, with SIGKILLed servers and restarted
  // databases) runs with `npm run test:hardening`; `npm test` runs the rest.
  testPathIgnorePatterns: process.env.TRELLIS_HARDENING ? ['/node_modules/'] : ['/node_modules/', '/dist/test/hardening/'],
  transform: {},
  globalSetup: '<rootDir>/dist/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/dist/test/setup/global-teardown.js',
  testEnvironment: 'node',
  // Decorator metadata (type-graphql, TypeORM) before any test file loads an entity.
  setupFiles: ['reflect-metadata'],
  testTimeout: 30000,
  maxWorkers: 2,
};
