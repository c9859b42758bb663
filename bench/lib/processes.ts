/** The systems under test, each its own process on the server core, started and stopped here. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pinned } from './cpu.ts';
import { DIRECTORY_RESOURCE, PROFILE_RESOURCE } from './fixtures.ts';
import { json, send } from './http.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  name: string;
  pid: number;
  /** The main port (the IdP's for the testbed). */
  port: number;
  /** Named extra ports: the testbed's `profileApi` and `directoryApi`. */
  ports: Record<string, number>;
  /** Milliseconds from spawn to the ready line. */
  readyMs: number;
  /** What the process has written to stdout so far (a pipe this process drains, as a terminal or a container runtime would). */
  stdoutWritten?(): { bytes: number; lines: number };
  rssMiB(): number;
  stop(): Promise<void>;
}

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL' && name !== 'NODE_OPTIONS'),
  );
  return { ...env, ...extra };
}

/** Which server process listens on a port (main and extra ports), while it runs: wrk charges its CPU time to the load it sends there. */
const serverByPort = new Map<number, number>();

export function serverPidOf(port: number): number | undefined {
  return serverByPort.get(port);
}

/** CPU time (user + system, all threads) a process has used so far, in µs; undefined when it cannot be read. */
export function cpuMicros(pid: number): number | undefined {
  try {
    return statCpuMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU time each thread of a process has used so far, in µs, summed by thread name ("main" for the
 * JavaScript thread; V8's workers and libuv's pool by theirs). Threads that ended are not counted.
 */
export function cpuMicrosByThread(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      byName.set(name, (byName.get(name) ?? 0) + statCpuMicros(stat));
    } catch {
      // the thread ended while it was read
    }
  }
  return byName;
}

/** utime + stime of a /proc stat line: the 12th and 13th fields after the ")" closing the command name (proc(5)). */
function statCpuMicros(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Spawns `node <args>` on the server core and waits (20 s at most) until `ready` matches its
 * output; the match's groups are the ports.
 */
export async function startNode(
  name: string,
  args: string[],
  ready: (output: string) => Record<string, number> | undefined,
  env?: Record<string, string>,
  cwd = REPO,
): Promise<ServerProcess> {
  const started = performance.now();
  const [command, commandArgs] = pinned('server', process.execPath, args);
  const child: ChildProcess = spawn(command, commandArgs, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 20000) output += chunk.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const written = { bytes: 0, lines: 0 };
  child.stdout!.on('data', (chunk: Buffer) => {
    written.bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) written.lines += 1;
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const [port, pid] of serverByPort) if (pid === child.pid) serverByPort.delete(port);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  while (performance.now() - started < 20000) {
    const ports = ready(output);
    if (ports) {
      const pid = child.pid!;
      for (const port of Object.values(ports)) serverByPort.set(port, pid);
      return {
        name,
        pid,
        port: ports.main,
        ports,
        readyMs: performance.now() - started,
        stdoutWritten: () => ({ ...written }),
        rssMiB: () => rssMiB(pid),
        stop,
      };
    }
    if (child.exitCode !== null) throw new Error(`${name} exited: ${output.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await stop();
  throw new Error(`${name} did not start within 20 s: ${output.slice(-2000)}`);
}

const listening = (output: string) => {
  const match = /listening (\d+)/.exec(output);
  return match ? { main: Number(match[1]) } : undefined;
};

export interface TestbedStart {
  /** Node options before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  fixture?: string;
  apis?: boolean;
  redis?: string;
  redisPrefix?: string;
  /** Extra environment, e.g. NODE_DISABLE_COMPILE_CACHE. */
  env?: Record<string, string>;
  /** `--log-level`; default `error` (no request lines); null passes none: the CLI's default, `info`, a line per request. */
  logLevel?: string | null;
  /** `--keys FILE` (keys kept in that file, generated on the first start) instead of `--ephemeral-keys`. */
  keysFile?: string;
  /** Where `bin/oidc-testbed.js` is run: this clone (the default), or a published package (published-package.ts). */
  packageDir?: string;
}

export function startTestbedProcess(name: string, options: TestbedStart = {}): Promise<ServerProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    'bin/oidc-testbed.js',
    'start',
    '--port',
    '0',
    ...(options.keysFile ? ['--keys', options.keysFile] : ['--ephemeral-keys']),
  ];
  const logLevel = options.logLevel === undefined ? 'error' : options.logLevel;
  if (logLevel !== null) args.push('--log-level', logLevel);
  if (options.fixture) args.push('--config', options.fixture);
  if (options.apis === false) args.push('--no-apis');
  if (options.redis) args.push('--redis', options.redis, '--redis-prefix', options.redisPrefix ?? 'oidc-testbed-bench:');
  return startNode(
    name,
    args,
    (output) => {
      const health = /health\s+http:\/\/[^:]+:(\d+)\/healthz/.exec(output);
      if (!health) return undefined;
      const profile = /profile API\s+http:\/\/[^:]+:(\d+)\//.exec(output);
      const directory = /directory API\s+http:\/\/[^:]+:(\d+)\//.exec(output);
      if (options.apis !== false && (!profile || !directory)) return undefined;
      return {
        main: Number(health[1]),
        ...(profile ? { profileApi: Number(profile[1]) } : {}),
        ...(directory ? { directoryApi: Number(directory[1]) } : {}),
      };
    },
    options.env,
    options.packageDir,
  );
}

export function startBareProvider(fixture?: string, nodeArgs: string[] = []): Promise<ServerProcess> {
  return startNode(
    'bare oidc-provider',
    [...nodeArgs, 'bench/servers/bare-provider.ts', ...(fixture ? ['--fixture', fixture] : [])],
    listening,
  );
}

export function startMockServer(): Promise<ServerProcess> {
  return startNode('oauth2-mock-server', ['bench/servers/oauth2-mock-server.ts'], listening);
}

/** The Koa + jose floor, verifying what `testbeds` issue: their public keys and issuers, the mock APIs' audiences. */
export async function startFloor(testbeds: ServerProcess[], nodeArgs: string[] = []): Promise<ServerProcess> {
  const keys: unknown[] = [];
  const issuers = new Set<string>();
  for (const testbed of testbeds) {
    keys.push(...(await json<{ keys: unknown[] }>(send(testbed.port, 'GET', '/jwks'), 'jwks')).keys);
    issuers.add((await json<{ issuer: string }>(send(testbed.port, 'GET', '/.well-known/openid-configuration'), 'discovery')).issuer);
  }
  return startNode('Koa + jose floor', [...nodeArgs, 'bench/servers/koa-jose-floor.ts'], listening, {
    BENCH_FLOOR_JWKS: JSON.stringify({ keys }),
    BENCH_FLOOR_ISSUERS: JSON.stringify([...issuers]),
    BENCH_FLOOR_AUDIENCES: JSON.stringify([PROFILE_RESOURCE, DIRECTORY_RESOURCE]),
  });
}

export function startPlainHttp(): Promise<ServerProcess> {
  return startNode('plain node:http', ['bench/servers/plain-http.ts'], listening);
}
