/** Jest on native ESM: ts-jest transpiles (type-checking is `tsc --noEmit`, run by `npm test` first). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // tsconfig's rewriteRelativeImportExtensions makes ts-jest emit `.js` for our `.ts` imports.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // The container test needs a Docker engine: `npm run test:docker` (test/docker/jest.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/docker/'],
  setupFiles: ['<rootDir>/test/support/quiet-provider-notices.ts', '<rootDir>/test/support/jest-realm.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  testTimeout: 30000,
  maxWorkers: 2,
};
