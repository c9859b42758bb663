/**
 * Core pinning: servers on core 0, load generators (wrk, and this process for the Node-driven
 * flows) on core 1, with taskset, when the machine has two cores or more and taskset exists.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
export const PINNING = hasTaskset && availableParallelism() >= 2;

export function pinned(role: 'server' | 'load', command: string, args: string[]): [string, string[]] {
  if (!PINNING) return [command, args];
  return ['taskset', ['-c', role === 'server' ? '0' : '1', command, ...args]];
}

/** Pins this process (every thread) to the load core. */
export function pinSelfToLoadCore(): void {
  if (PINNING) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
}

export function pinningDescription(): string {
  return PINNING
    ? 'servers pinned to core 0, wrk and the Node flow driver to core 1 (taskset)'
    : `no pinning (${hasTaskset ? `${availableParallelism()} core` : 'taskset not found'}): servers and load share the cores`;
}
