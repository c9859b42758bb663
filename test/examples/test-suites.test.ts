/**
 * The two test-suite examples (examples/test-suites/) run as a user runs them: the vitest one (a
 * testbed per file, steered through the library) and the jest one (one testbed from globalSetup,
 * steered over HTTP). Each is its own runner process; this test reads their verdicts.
 */
import { describe, expect, it } from '@jest/globals';
import { runCommand } from '../support/command.ts';

const npx = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCommand('npx', args, { env: { ...env, CI: process.env.CI ?? '', FORCE_COLOR: '0', NO_COLOR: '1' } });

describe('examples/test-suites', () => {
  it('vitest: a testbed per file, steered through the library — every test passes', async () => {
    const run = await npx(['vitest', 'run', '--root', 'examples/test-suites', '--reporter', 'verbose'], { NODE_OPTIONS: '' });
    expect({ code: run.code, output: run.code === 0 ? '' : `${run.stdout}\n${run.stderr}`.slice(-3000) }).toEqual({ code: 0, output: '' });
    expect(run.stdout).toMatch(/Tests\s+5 passed \(5\)/);
  }, 120_000);

  it('jest: one testbed from globalSetup, steered over HTTP — every test passes', async () => {
    const run = await npx(['jest', '--config', 'examples/test-suites/jest.config.js'], {
      NODE_OPTIONS: '--experimental-vm-modules --conditions=oidc-testbed-source',
    });
    expect({ code: run.code, output: run.code === 0 ? '' : `${run.stdout}\n${run.stderr}`.slice(-3000) }).toEqual({ code: 0, output: '' });
    expect(run.stderr).toMatch(/Tests:\s+3 passed, 3 total/);
  }, 120_000);
});
