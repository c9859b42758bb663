/**
 * A home of the bench's own for what the systems keep between processes (XDG_CACHE_HOME, where the
 * testbed keeps its pool of RSA keys made ahead of need; XDG_STATE_HOME, where the CLI keeps its keys
 * file), so that a run neither uses nor fills the user's. Its variables also mark every process the
 * systems start, however detached (the pool's filler outlives the testbed that started it): each
 * inherits them, so `settle()` can wait until what one row left running has finished before the
 * next row is timed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ScratchHome {
  /** The variables to give every system's process. */
  env: Record<string, string>;
  /** Processes other than `except` that carry this home's variables. */
  leftovers(except?: readonly number[]): number[];
  /** Waits (2 min at most) until there are none; resolves to the milliseconds waited. */
  settle(except?: readonly number[]): Promise<number>;
  remove(): void;
}

const SETTLE_LIMIT_MS = 120_000;

export function scratchHome(): ScratchHome {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-testbed-bench-home-'));
  const env = { XDG_CACHE_HOME: join(dir, 'cache'), XDG_STATE_HOME: join(dir, 'state') };
  const marker = `XDG_CACHE_HOME=${env.XDG_CACHE_HOME}`;
  const leftovers = (except: readonly number[] = []) =>
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => pid !== process.pid && !except.includes(pid) && carries(pid, marker));
  return {
    env,
    leftovers,
    async settle(except = []) {
      const started = performance.now();
      for (let running = leftovers(except); running.length > 0; running = leftovers(except)) {
        if (performance.now() - started > SETTLE_LIMIT_MS)
          throw new Error(`processes ${running.join(', ')} still run after ${SETTLE_LIMIT_MS / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return performance.now() - started;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function carries(pid: number, variable: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(variable);
  } catch {
    return false; // ended, or not ours to read
  }
}
