/**
 * Runs a program (no shell) and collects its output, for tests that drive command-line tools
 * (docker, compose). The working directory is the repository's root unless told otherwise.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `command` to its end; a non-zero exit is a result, not an error. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

/**
 * Runs `command` and returns its stdout; a non-zero exit throws with the last lines of its stdout
 * and stderr (a tool may report its failure on either: `docker build` on stdout).
 */
export async function commandOutput(command: string, args: readonly string[], options?: CommandOptions): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const tail = (text: string) => text.trim().split('\n').slice(-8).join('\n');
    const output = [result.stdout, result.stderr]
      .filter((text) => text.trim() !== '')
      .map(tail)
      .join('\n');
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} … exited ${result.code}: ${output}`);
  }
  return result.stdout;
}
