/**
 * The container test's Jest globalSetup. A test file cannot catch Ctrl-C (its `process` is a copy
 * inside Jest's sandbox), so this, run in Jest's own process, names the run (RUN_ID_VARIABLE, read
 * by docker-cli.ts) and on SIGINT removes every container, network, volume and scratch directory
 * named after it, then exits 130.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RUN_ID_VARIABLE = 'CONTAINER_TEST_RUN_ID';

export default function nameTheRun(): void {
  const runId = `oidctb${process.pid}`;
  process.env[RUN_ID_VARIABLE] = runId;
  process.once('SIGINT', () => {
    removeWhatIsNamed(runId);
    process.exit(130);
  });
}

function removeWhatIsNamed(runId: string): void {
  const docker = process.env.DOCKER ?? 'docker';
  // `oidctb12` must not take `oidctb123…`: the name goes on with something other than a digit.
  const ours = (name: string) => name.startsWith(runId) && !/^\d/.test(name.slice(runId.length));
  const listed = (...args: string[]): string[] => {
    try {
      return execFileSync(docker, args, { encoding: 'utf8' })
        .split('\n')
        .filter((line) => ours(line.split(' ').pop() ?? ''));
    } catch {
      return [];
    }
  };
  const remove = (args: string[], lines: string[]) => {
    if (lines.length === 0) return;
    try {
      execFileSync(docker, [...args, ...lines.map((line) => line.split(' ')[0])], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };
  remove(['rm', '-f', '-v'], listed('ps', '-a', '--format', '{{.ID}} {{.Names}}'));
  remove(['network', 'rm'], listed('network', 'ls', '--format', '{{.ID}} {{.Name}}'));
  remove(['volume', 'rm', '-f'], listed('volume', 'ls', '--format', '{{.Name}}'));
  for (const entry of readdirSync(tmpdir())) {
    if (ours(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}
