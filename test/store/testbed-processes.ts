/**
 * Testbed replicas as separate processes (`node src/cli/main.ts start`), and a switch in front of
 * them: one HTTP listener at the issuer's URL that forwards each request to the replica the test
 * chose, the way a load balancer would (Host header kept).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

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
