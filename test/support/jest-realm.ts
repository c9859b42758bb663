import '../../src/jest-realm.ts'; // the package's `oidc-testbed/jest` (jest.config.js setupFiles)
