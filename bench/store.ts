/**
 * Token issuance (client credentials) and introspection on the memory store and on Redis.
 *
 *   node bench/store.ts [--seconds 4] [--connections 16] [--redis redis://127.0.0.1:6379]
 *
 * Each store gets its own testbed process (`bin/oidc-testbed.js start`), so the server has its own
 * core and this process only generates load: keep-alive HTTP/1.1, a fixed number of requests in
 * flight, for a fixed time after a one-second warm-up. Redis keys go under a throw-away prefix that
 * is deleted afterwards.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
    redis: { type: 'string', default: process.env.REDIS_URL || 'redis://127.0.0.1:6379' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const REPO = fileURLToPath(new URL('../', import.meta.url));
const SERVICE = `Basic ${Buffer.from('service-client:service-client-secret').toString('base64')}`;
const INTROSPECTOR = `Basic ${Buffer.from('profile-api:profile-api-secret').toString('base64')}`;

interface Server {
  port: number;
  stop(): Promise<void>;
}

async function startServer(extraArgs: string[]): Promise<Server> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL'));
  const child = spawn(
    process.execPath,
    ['bin/oidc-testbed.js', 'start', '--port', '0', '--no-apis', '--ephemeral-keys', '--log-level', 'error', ...extraArgs],
    { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  for (let waited = 0; waited < 20000; waited += 50) {
    const match = /health\s+http:\/\/[^:]+:(\d+)\/healthz/.exec(output);
    if (match) {
      return {
        port: Number(match[1]),
        stop: () =>
          new Promise((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    if (child.exitCode !== null) throw new Error(`the testbed exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the testbed did not start: ${output}`);
}

interface Call {
  path: string;
  authorization: string;
  body: () => string;
}

function post(agent: Agent, port: number, call: Call): Promise<{ status: number; body: string }> {
  const body = call.body();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: call.path,
        headers: {
          authorization: call.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Result {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `connections` loops, each one request at a time, for `seconds` after a one-second warm-up. */
async function load(port: number, call: Call): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const run = async (until: number, record: boolean) => {
    while (performance.now() < until) {
      const started = performance.now();
      const { status } = await post(agent, port, call);
      if (!record) continue;
      if (status === 200) latencies.push(performance.now() - started);
      else errors += 1;
    }
  };
  const warm = performance.now() + 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(warm, false)));
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(end, true)));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { requests: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

async function tokenOf(port: number, form: string): Promise<string> {
  const agent = new Agent({ keepAlive: false });
  const { status, body } = await post(agent, port, { path: '/token', authorization: SERVICE, body: () => form });
  if (status !== 200) throw new Error(`token request failed: ${status} ${body}`);
  return (JSON.parse(body) as { access_token: string }).access_token;
}

const OPAQUE = 'grant_type=client_credentials';
const JWT = `grant_type=client_credentials&resource=${encodeURIComponent('http://localhost:9401/')}&scope=profile`;

async function scenarios(port: number): Promise<Record<string, Result>> {
  const opaque = await tokenOf(port, OPAQUE);
  const jwt = await tokenOf(port, JWT);
  const introspect = (token: string): Call => ({
    path: '/token/introspection',
    authorization: INTROSPECTOR,
    body: () => `token=${encodeURIComponent(token)}`,
  });
  return {
    'issue opaque (client_credentials)': await load(port, { path: '/token', authorization: SERVICE, body: () => OPAQUE }),
    'issue JWT (client_credentials)': await load(port, { path: '/token', authorization: SERVICE, body: () => JWT }),
    'introspect opaque': await load(port, introspect(opaque)),
    'introspect JWT': await load(port, introspect(jwt)),
  };
}

async function purge(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  for await (const keys of client.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await client.unlink(...keys);
  }
  client.disconnect();
}

const prefix = `oidc-testbed-bench:${randomBytes(4).toString('hex')}:`;
const results: Record<string, Record<string, Result>> = {};
console.error(
  `${SECONDS} s per scenario after 1 s of warm-up, ${CONNECTIONS} requests in flight; Redis ${values.redis.replace(/\/\/[^@]*@/, '//***@')}`,
);
for (const [store, args] of [
  ['memory', []],
  ['redis', ['--redis', values.redis, '--redis-prefix', prefix]],
] as const) {
  const server = await startServer([...args]);
  try {
    results[store] = await scenarios(server.port);
  } finally {
    await server.stop();
  }
}
await purge(values.redis, prefix);

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const rows = [
  '| scenario | memory req/s | memory p50 / p99 ms | redis req/s | redis p50 / p99 ms |',
  '|---|---:|---:|---:|---:|',
  ...Object.keys(results.memory).map((name) => {
    const m = results.memory[name];
    const r = results.redis[name];
    return `| ${name} | ${fmt(m.perSecond, 0)} | ${fmt(m.p50)} / ${fmt(m.p99)} | ${fmt(r.perSecond, 0)} | ${fmt(r.p50)} / ${fmt(r.p99)} |`;
  }),
];
console.log(rows.join('\n'));
const failed = Object.values(results)
  .flatMap((byScenario) => Object.values(byScenario))
  .reduce((sum, result) => sum + result.errors, 0);
if (failed > 0) {
  console.error(`${failed} requests did not answer 200`);
  process.exitCode = 1;
}
