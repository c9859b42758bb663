/**
 * The Docker CLI as the container test drives it: `docker` on PATH (DOCKER=… to choose); compose:
 * `docker compose`, else `docker-compose`. Everything the test creates is named after RUN_ID and
 * registered for `cleanUp()`.
 */
import { join } from 'node:path';
import { commandOutput, REPO_ROOT, runCommand } from '../support/command.ts';
import { waitFor } from '../support/wait-for.ts';
import { RUN_ID_VARIABLE } from './interrupt.ts';

export const DOCKER = process.env.DOCKER ?? 'docker';

/** The prefix of every container, compose project and scratch directory of this run (see interrupt.ts). */
export const RUN_ID = process.env[RUN_ID_VARIABLE] ?? `oidctb${process.pid}`;

export const docker = (...args: string[]) => commandOutput(DOCKER, args);

/** The engine's version, or a sentence saying there is none and how to start one. */
export async function engineVersion(): Promise<{ version: string } | { problem: string }> {
  const info = await runCommand(DOCKER, ['info', '--format', '{{.ServerVersion}}']);
  if (info.code === 0) return { version: info.stdout.trim() };
  return {
    problem: `No Docker engine (${DOCKER} info: ${info.stderr.trim().split('\n')[0]}). Start one first (here: bash ../shared/tools/docker-engine.sh).`,
  };
}

let composeCommand: string[] | undefined;
export async function compose(project: string, file: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  composeCommand ??= (await runCommand(DOCKER, ['compose', 'version'])).code === 0 ? [DOCKER, 'compose'] : ['docker-compose'];
  const [command, ...prefix] = composeCommand;
  return commandOutput(command, [...prefix, '-p', project, '-f', join(REPO_ROOT, 'docker', file), ...args], { env });
}

const cleanups: Array<() => Promise<unknown>> = [];

/** Registers a clean-up step; `cleanUp()` runs them last first. */
export function onCleanUp(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
}

export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}

export async function startContainer(name: string, args: string[]): Promise<string> {
  onCleanUp(() => runCommand(DOCKER, ['rm', '-f', '-v', name]));
  return (await docker('run', '-d', '--name', name, ...args)).trim();
}

async function containerState(name: string): Promise<{ Status: string; ExitCode: number; Health?: { Status: string } }> {
  return JSON.parse(await docker('inspect', '-f', '{{json .State}}', name));
}

export async function waitHealthy(name: string): Promise<void> {
  await waitFor(`${name} to be healthy`, async () => {
    const state = await containerState(name);
    if (state.Status === 'exited')
      throw new Error(`${name} exited ${state.ExitCode}: ${(await runCommand(DOCKER, ['logs', '--tail', '5', name])).stderr.trim()}`);
    return state.Health?.Status === 'healthy' ? true : undefined;
  });
}

/** Runs the container to its end and returns its exit code and its whole output. */
export async function runToExit(name: string, args: string[]): Promise<{ code: number; output: string[] }> {
  await startContainer(name, args);
  const code = Number((await docker('wait', name)).trim());
  const logs = await runCommand(DOCKER, ['logs', name]);
  return { code, output: `${logs.stdout}${logs.stderr}`.split('\n').filter((line) => line !== '') };
}
