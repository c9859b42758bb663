/** `oidc-testbed start` names the console in its banner, and the console answers there. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('the start-up banner has a console line whose URL serves the console page', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL'));
  const child = spawn(
    process.execPath,
    ['src/cli/main.ts', 'start', '--port', '0', '--ephemeral-keys', '--no-apis', '--log-level', 'warn'],
    {
      cwd: ROOT,
      env,
    },
  );
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
    const consoleUrl = /^\s*console\s+(\S+)$/m.exec(banner)?.[1];
    expect(consoleUrl).toBe(`${issuer}/_testbed/`);
    const page = await fetch(consoleUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Console</h1>');
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
});
