/**
 * The container test, `npm run test:docker`: the main config's transform and ESM settings, only
 * test/docker (the main config leaves it out: it needs a Docker engine). One file, in band, so
 * interrupt.ts runs in the process that runs the test.
 */
import { fileURLToPath } from 'node:url';
import main from '../../jest.config.js';

export default {
  ...main,
  rootDir: fileURLToPath(new URL('../../', import.meta.url)),
  roots: ['<rootDir>/test/docker'],
  testMatch: ['<rootDir>/test/docker/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/docker/interrupt.ts',
  // Per check; the image build sets its own.
  testTimeout: 180_000,
  maxWorkers: 1,
};
