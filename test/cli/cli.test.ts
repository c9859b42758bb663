import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { fixturePath } from '../support/testbed.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = 'src/cli/main.ts';

/** The environment without the container variables that would change what the CLI does. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL'));
}

function cli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnvironment() });
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cli(args);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('oidc-testbed check FILE', () => {
  it('accepts the default fixture (exit 0)', async () => {
    const { code, stdout } = await run(['check', 'fixtures/default.yaml']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^fixtures\/default\.yaml: OK — \d+ clients, 4 users, 2 resources, 1 more issuer \(\/fapi2\)\n$/);
  });

  it('rejects a bad fixture with one readable line naming the file and the path (non-zero exit)', async () => {
    const file = fixturePath('bad-redirect-uri.yaml');
    const { code, stdout, stderr } = await run(['check', file]);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `oidc-testbed: ${file}: clients[2].redirect_uris[0]: must be an absolute URL (e.g. "http://localhost:3000/callback") (line 16)\n`,
    );
  });

  it('rejects a fixture oidc-provider refuses at start (its client validation), with the message start gives', async () => {
    const file = fixturePath('refused-by-engine.yaml');
    const message = `oidc-testbed: ${file}: clients[1]: oidc-provider refuses this client: response_types can only contain 'code', 'id_token', or 'none'\n`;
    const checked = await run(['check', file]);
    expect(checked).toMatchObject({ code: 2, stdout: '', stderr: message });
    const started = await run(['start', '--config', file, '--port', '0', '--ephemeral-keys', '--no-apis', '--log-level', 'silent']);
    expect(started).toMatchObject({ code: 2, stderr: message });
  });

  it('rejects a missing file the same way', async () => {
    const { code, stderr } = await run(['check', 'no-such-fixture.yaml']);
    expect(code).not.toBe(0);
    expect(stderr).toBe('oidc-testbed: no-such-fixture.yaml: file not found\n');
  });
});

describe('oidc-testbed start', () => {
  it('prints the issuer, discovery URL, clients and users, serves them, and stops on SIGTERM', async () => {
    const child = cli(['start', '--port', '0', '--ephemeral-keys', '--no-apis', '--log-level', 'warn']);
    let banner = '';
    child.stderr.setEncoding('utf8');
    child.stdout.resume();
    try {
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: string) => {
          banner += chunk;
          if (/\n\s*users\s.*\n/.test(banner)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the CLI exited (${code}) before its banner: ${banner}`)));
      });
      const issuer = /^\s*issuer\s+(\S+)$/m.exec(banner)?.[1];
      expect(issuer).toMatch(/^http:\/\/localhost:\d+$/);
      expect(banner).toMatch(new RegExp(`^\\s*discovery\\s+${issuer}/\\.well-known/openid-configuration$`, 'm'));
      expect(banner).toMatch(/^\s*clients\s+node-openid-client, spa-client, device-client, web-app, service-client, /m);
      expect(banner).toMatch(new RegExp(`^\\s*issuer\\s+${issuer}/fapi2 \\(fapi2 profile; clients fapi2-client\\)$`, 'm'));
      expect(banner).toMatch(/^\s*users\s+alice, bob, admin, sales$/m);

      const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(((await discovery.json()) as { issuer: string }).issuer).toBe(issuer);
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    }
  });

  it('refuses an unknown option with a usage message', async () => {
    const { code, stderr } = await run(['start', '--prot', '0']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^oidc-testbed: .*--prot/);
    expect(stderr).toContain('Usage:');
  });
});
