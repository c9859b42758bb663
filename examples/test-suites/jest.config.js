/**
 * The jest example: one shared testbed (globalSetup) for every test file, TypeScript compiled by
 * ts-jest on native ESM (run with NODE_OPTIONS=--experimental-vm-modules). In this checkout,
 * `oidc-testbed` resolves to its source through the package's `oidc-testbed-source` export
 * condition (NODE_OPTIONS=--conditions=oidc-testbed-source for the globalSetup, which Node loads
 * itself); in your project it is the installed package and neither is needed.
 */
export default {
  rootDir: '.',
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['oidc-testbed-source', 'node', 'node-addons'] },
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/../../tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/jest/**/*.test.ts'],
  globalSetup: '<rootDir>/jest/global-setup.ts',
  globalTeardown: '<rootDir>/jest/global-teardown.ts',
  // One IdP for every file: files take turns, so one test's reset never lands in another's middle.
  maxWorkers: 1,
};
