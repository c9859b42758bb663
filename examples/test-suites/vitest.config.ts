/**
 * The vitest example. In this checkout `oidc-testbed` resolves to its source through the package's
 * `oidc-testbed-source` export condition; in your project it is the installed package and the
 * `resolve` line is not needed.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['oidc-testbed-source'] },
  ssr: { resolve: { conditions: ['oidc-testbed-source'] } },
  test: { include: ['vitest/**/*.test.ts'], testTimeout: 30_000 },
});
