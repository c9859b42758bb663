/**
 * Start-up costs of the published package, each timed inside a fresh Node process on the server
 * core (bench/probes/startup.mjs, run from the package's directory): the time of `import()`, and of
 * start calls in a loop (the first, then the ones after, warm).
 */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './cpu.ts';
import { cleanEnv, REPO } from './processes.ts';

const PROBE = 'bench-startup-probe.mjs';

/**
 * Node's compile cache is off unless something turns it on: the CLI does (bin/oidc-testbed.js),
 * an `import()` of the library does not. These variables are the user's, not the bench's.
 */
const CACHE_VARIABLES = ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE'];

export interface ProbeResult {
  /** The import of the module under test (start probes only). */
  importMs?: number;
  /** The import (import probe), or each start call in order. */
  ms: number | number[];
}

/** Puts the probe where a project that installed the package would have its code. */
export function installProbe(packageDir: string): void {
  copyFileSync(join(REPO, 'bench/probes/startup.mjs'), join(packageDir, PROBE));
}

export interface ProbeOptions {
  env?: Record<string, string>;
  /** Node options before the probe, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

export function runProbe(packageDir: string, args: string[], { env = {}, nodeArgs = [] }: ProbeOptions = {}): Promise<ProbeResult> {
  const childEnv = cleanEnv();
  for (const name of CACHE_VARIABLES) delete childEnv[name];
  const [command, commandArgs] = pinned('server', process.execPath, [...nodeArgs, PROBE, ...args]);
  const child = spawn(command, commandArgs, { cwd: packageDir, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 20000) stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      const line = stdout.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`startup probe ${args.join(' ')}: exit ${code ?? signal}: ${stderr.slice(-2000)}`));
      resolve(JSON.parse(line) as ProbeResult);
    });
  });
}
