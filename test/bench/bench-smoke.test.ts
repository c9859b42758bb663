/**
 * The benchmark harness works end to end: a one-second run of figures 1 and 4 starts every system,
 * loads each with wrk, and writes the table and the JSON result. Proves the harness only; no
 * timing is asserted (speed is measured by `npm run bench`, never by a test). Needs wrk (Debian
 * package `wrk`); without it the test fails on CI and is skipped elsewhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const hasWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
if (!hasWrk && process.env.CI) throw new Error('wrk is not installed and CI is set: the benchmark smoke test must run');

interface BenchResult {
  groups: Array<{
    figure: number;
    entries: Array<{ key: string; system: string; runs: Array<{ requests: number; errors: number; serverCpuMicros?: number }> }>;
  }>;
  targets: Array<{ target: string; value: string; met: boolean }>;
}

(hasWrk ? describe : describe.skip)('benchmark harness (npm run bench), smoke run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-testbed-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the testbed and its peers, loads them, prints the tables and writes the JSON result', async () => {
    const out = join(dir, 'result.json');
    const child = spawn(process.execPath, ['bench/run.ts', '--quick', '--only', '1,4', '--runs', '1', '--seconds', '1', '--out', out], {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, stderr: code === 0 ? '' : stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });

    expect(stdout).toContain('### 1. client_credentials token issuance');
    expect(stdout).toContain('### 4. discovery and JWKS');
    expect(stdout).toContain('### Targets');

    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.groups.map((group) => group.figure)).toEqual([1, 4]);
    const systems = new Set(result.groups.flatMap((group) => group.entries.map((entry) => entry.system)));
    expect([...systems].sort()).toEqual(['bare oidc-provider', 'oauth2-mock-server', 'oidc-testbed']);
    for (const entry of result.groups.flatMap((group) => group.entries)) {
      expect({ key: entry.key, runs: entry.runs.length }).toEqual({ key: entry.key, runs: 1 });
      expect({ key: entry.key, served: entry.runs[0].requests > 0, errors: entry.runs[0].errors }).toEqual({
        key: entry.key,
        served: true,
        errors: 0,
      });
      // Figures 1 and 4 are wrk-driven: the server's CPU time per request is measured for each run.
      expect({ key: entry.key, cpu: entry.runs[0].serverCpuMicros! > 0 }).toEqual({ key: entry.key, cpu: true });
    }
    expect(result.targets.map((check) => check.target)).toEqual(
      expect.arrayContaining(['1. ES256 vs bare ≥ 0.9×', '4. JWKS vs bare ≥ 0.9×']),
    );
    for (const check of result.targets) expect(typeof check.met).toBe('boolean');
  }, 120_000);
});
