/**
 * The relying party's process for one scenario: started with the run's environment in its own
 * process group, polled until it answers, and stopped (the whole group) after. The last lines of
 * its output are kept for the report.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const TAIL_BYTES = 8 * 1024;
/** An RP under test needs no orderly shutdown: what has not exited by then is killed. */
const STOP_GRACE_MS = 500;

export class RpProcess {
  readonly #child: ChildProcess;
  #tail = '';
  #exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exit: Promise<void>;

  constructor(command: string, options: { cwd: string; env: Record<string, string> }) {
    this.#child = spawn(command, {
      shell: true,
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: stop() ends what the shell started too
    });
    const keep = (chunk: Buffer) => {
      this.#tail = (this.#tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    };
    this.#child.stdout?.on('data', keep);
    this.#child.stderr?.on('data', keep);
    this.#exit = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exited = { code, signal };
        resolve();
      });
      this.#child.once('error', (error) => {
        keep(Buffer.from(`${error.message}\n`));
        this.#exited = { code: null, signal: null };
        resolve();
      });
    });
  }

  /** The last output lines (stdout and stderr as they came). */
  tail(lines = 40): string {
    return this.#tail.split('\n').slice(-lines).join('\n').trimEnd();
  }

  get exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.#exited;
  }

  /**
   * Resolves once `url` answers any HTTP status; throws when the process exits first or
   * `timeoutMs` passes (the message says which).
   */
  async waitUntilReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exited) throw new Error(`the RP exited (${describeExit(this.#exited)}) before ${url} answered`);
      try {
        const response = await fetch(url, {
          redirect: 'manual',
          signal: AbortSignal.timeout(Math.max(100, Math.min(2_000, deadline - Date.now()))),
        });
        await response.arrayBuffer();
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() >= deadline) throw new Error(`the RP did not answer at ${url} within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGTERM to its process group, SIGKILL after a grace period; resolves once it exited. */
  async stop(): Promise<void> {
    if (this.#exited || this.#child.pid === undefined) return;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-this.#child.pid!, signal);
      } catch {
        // Gone already.
      }
    };
    signalGroup('SIGTERM');
    const killed = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
    await this.#exit;
    clearTimeout(killed);
    // What the shell left behind in the group (a server it started) goes too; once none is left, its port is free.
    signalGroup('SIGKILL');
    for (const deadline = Date.now() + STOP_GRACE_MS; Date.now() < deadline && groupAlive(this.#child.pid); )
      await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
