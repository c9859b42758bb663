/**
 * The CLI logs one JSON line per request at its default level, written asynchronously: a SIGTERM
 * right after a burst, while the reader of stdout is slow, still loses no line.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BURST = 2000;

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode!));
    })
      .on('error', reject)
      .end();
  });
}

describe('the request log', () => {
  it('has one line per request, none lost on SIGTERM right after a burst', async () => {
    const child = spawn(process.execPath, ['bin/oidc-testbed.js', 'start', '--port', '0', '--ephemeral-keys', '--no-apis'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // 'close': the process has exited and its stdout has ended.
    const exit = once(child, 'close');
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/\n\s*users\s.*\n/.test(stderr)) resolve();
      };
      child.stderr.on('data', check);
      void exit.then(() => reject(new Error(`the CLI exited before its banner: ${stderr}`)));
    });
    const discovery = `${/^\s*issuer\s+(\S+)$/m.exec(stderr)![1]}/.well-known/openid-configuration`;

    // Nobody reads stdout during the burst: the pipe fills and the lines wait in the testbed.
    child.stdout.pause();
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < BURST) {
          next += 1;
          statuses.push(await get(discovery));
        }
      }),
    );
    child.kill('SIGTERM');
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stdout.resume();
    const [code] = (await exit) as [number | null];

    expect(code).toBe(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; method: string; path: string; status: number });
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests).toHaveLength(BURST);
    expect(
      requests.every((line) => line.method === 'GET' && line.path === '/.well-known/openid-configuration' && line.status === 200),
    ).toBe(true);
  }, 60_000);
});
