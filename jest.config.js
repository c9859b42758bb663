/** Jest on native ESM: ts-jest transpiles (type-checking is `tsc --noEmit`, run by `npm test` first). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // tsconfig's rewriteRelativeImportExtensions makes ts-jest emit `.js` for our `.ts` imports.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/quiet-provider-notices.ts', '<rootDir>/test/support/jest-realm.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  testTimeout: 30000,
  maxWorkers: 2,
};
