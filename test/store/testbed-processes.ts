/**
 * Testbed replicas as separate processes (`node src/cli/main.ts start`), and a switch in front of
 * them: one HTTP listener at the issuer's URL that forwards each request to the replica the test
 * chose, the way a load balancer would (Host header kept).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from '@jest/globals';
import { type FixtureInput, startTestbed, type Testbed } from '../../src/index.ts';
import { purgePrefix, SUITE_FIXTURE, testRedisUrl } from '../support/store.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface TestbedProcess {
  /** Where this replica listens (not the issuer). */
  readonly port: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface StartOptions {
  issuer: string;
  redis: string;
  prefix: string;
  /** Run the mock APIs too (on free ports). Default false. */
  apis?: boolean;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/** The environment of a child testbed: this one without the CLI's own variables (flags decide). */
function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL' && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs the CLI with `args`; resolves with its exit code and output once it exits. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): { exited: Promise<{ code: number | null; output: string }>; child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
    cwd: REPO,
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  return { exited, child, output: () => output };
}

/** Starts a replica on a free port with the given issuer and Redis; resolves once it is up. */
export async function startTestbedProcess(options: StartOptions): Promise<TestbedProcess> {
  const apis = options.apis ? ['--profile-api-port', '0', '--directory-api-port', '0'] : ['--no-apis'];
  const args = [
    'start',
    '--port',
    '0',
    ...apis,
    '--issuer',
    options.issuer,
    '--redis',
    options.redis,
    '--redis-prefix',
    options.prefix,
    '--log-level',
    'warn',
    ...(options.extraArgs ?? []),
  ];
  const run = runCli(args, options.env);
  const port = await waitForBanner(run);
  return {
    port,
    output: run.output,
    async stop() {
      if (run.child.exitCode !== null) return;
      run.child.kill('SIGTERM');
      await run.exited;
    },
  };
}

/** Waits for the "health http://…:PORT/healthz" banner line; fails with the output if the process exits first. */
export async function waitForBanner(run: ReturnType<typeof runCli>, timeoutMs = 20000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /health\s+http:\/\/[^:]+:(\d+)\/healthz/.exec(run.output());
    if (match) return Number(match[1]);
    if (run.child.exitCode !== null) throw new Error(`the testbed exited with ${run.child.exitCode}:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  run.child.kill('SIGKILL');
  throw new Error(`the testbed did not start:\n${run.output()}`);
}

export interface Switch {
  readonly port: number;
  /** The replica port requests go to now. */
  target: number;
  close(): Promise<void>;
}

export async function startSwitch(): Promise<Switch> {
  const state = { target: 0 };
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = request(
      { host: '127.0.0.1', port: state.target, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get target() {
      return state.target;
    },
    set target(port: number) {
      state.target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReplicaPairOptions {
  /** The Redis key prefix both replicas share (`uniquePrefix(…)`); purged after the tests. */
  prefix: string;
  /**
   * The fixture: a file path or a fixture object, or a function giving one in `beforeAll` (e.g. with
   * a listener's URL in it). In-process the default is test/fixtures/suite.yaml; as processes, the CLI's embedded one.
   */
  fixture?: string | FixtureInput | (() => string | FixtureInput);
  /** Run the mock APIs too. Default true in-process, false as processes. */
  apis?: boolean;
  /** For `beforeAll`; default 60 s. */
  timeoutMs?: number;
}

/** Two replicas of one IdP behind a switch at the issuer URL; the getters hold once `beforeAll` ran. */
export interface ReplicaPair<Replica> {
  /** The issuer URL both replicas have: the switch's. */
  issuer(): string;
  one(): Replica;
  two(): Replica;
  /** Sends the following requests to the issuer URL to `replica`. */
  on(replica: Replica): void;
}

/**
 * Two testbeds with the same issuer and Redis prefix behind a switch (replicas of one IdP, nothing
 * but Redis between them), started together in `beforeAll` — both race to create the keys; SET NX
 * lets exactly one win — and stopped in `afterAll`, the prefix purged. `processes: true` runs each
 * as `node src/cli/main.ts start`; otherwise both run in this process (`startTestbed`).
 */
export function useReplicaPair(options: ReplicaPairOptions & { processes: true }): ReplicaPair<TestbedProcess>;
export function useReplicaPair(options: ReplicaPairOptions & { processes?: false }): ReplicaPair<Testbed>;
export function useReplicaPair(options: ReplicaPairOptions & { processes?: boolean }): ReplicaPair<TestbedProcess | Testbed> {
  let gateway: Switch | undefined;
  let replicas: Array<TestbedProcess | Testbed> = [];
  let fixtureDir: string | undefined;
  const issuer = () => `http://localhost:${gateway!.port}`;
  const portOf = (replica: TestbedProcess | Testbed) => ('port' in replica ? replica.port : Number(new URL(replica.urls.health).port));

  beforeAll(async () => {
    gateway = await startSwitch();
    const fixture = typeof options.fixture === 'function' ? options.fixture() : options.fixture;
    const redis = { url: testRedisUrl(), prefix: options.prefix };
    const start = (): Promise<TestbedProcess | Testbed> => {
      if (!options.processes) {
        return startTestbed({
          port: 0,
          fixture: fixture ?? SUITE_FIXTURE,
          issuer: issuer(),
          redis,
          ...(options.apis === false ? { apis: false as const } : {}),
          logLevel: 'silent',
        });
      }
      let file = typeof fixture === 'string' ? fixture : undefined;
      if (fixture !== undefined && typeof fixture !== 'string') {
        fixtureDir ??= mkdtempSync(join(tmpdir(), 'oidc-testbed-replicas-'));
        file = join(fixtureDir, 'fixture.json');
        writeFileSync(file, JSON.stringify(fixture));
      }
      return startTestbedProcess({
        issuer: issuer(),
        redis: redis.url,
        prefix: redis.prefix,
        apis: options.apis ?? false,
        extraArgs: file === undefined ? [] : ['--config', file],
      });
    };
    replicas = await Promise.all([start(), start()]);
  }, options.timeoutMs ?? 60000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await gateway?.close();
    await purgePrefix(options.prefix);
    if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
  });

  return {
    issuer,
    one: () => replicas[0]!,
    two: () => replicas[1]!,
    on(replica) {
      gateway!.target = portOf(replica);
    },
  };
}
