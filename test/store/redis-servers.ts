/**
 * Throw-away Redis servers for the fault, cluster and Sentinel tests: `redis-server` on spare
 * loopback ports, without persistence, in a temporary directory. The machine's Redis on 6379 is
 * never touched.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Whether redis-server and redis-cli are installed; with `CI` set, their absence is an error. */
export function requireRedisBinaries(): boolean {
  const found = ['redis-server', 'redis-cli'].every((binary) => spawnSync(binary, ['--version']).status === 0);
  if (!found && process.env.CI) throw new Error('redis-server and redis-cli are not installed and CI is set: the Redis tests must run');
  return found;
}

/** A TCP port that is free now (and, with `plus`, so is port + plus: a cluster's bus port). */
export async function freePort(plus?: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if ((await isFree(port)) && (plus === undefined || (await isFree(port + plus)))) return port;
  }
  throw new Error('no free port found');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export class RedisServer {
  readonly port: number;
  readonly #args: string[];
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, args: string[]) {
    this.port = port;
    this.#args = args;
    this.#dir = mkdtempSync(join(tmpdir(), `oidc-testbed-redis-${port}-`));
  }

  /** Starts `redis-server` (or a Sentinel, with `--sentinel` and a config file) and waits for PING. */
  static async start(options: { port?: number; args?: string[]; sentinelConfig?: string } = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const server = new RedisServer(port, options.args ?? []);
    await server.start(options.sentinelConfig);
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(sentinelConfig?: string): Promise<void> {
    const base = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir, '--save', '', '--appendonly', 'no'];
    let args = [...base, ...this.#args];
    if (sentinelConfig !== undefined) {
      const file = join(this.#dir, 'sentinel.conf');
      writeFileSync(file, sentinelConfig);
      args = [file, '--sentinel', '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir];
    }
    this.#process = spawn('redis-server', args, { stdio: 'ignore' });
    await this.#waitForPing();
  }

  /** Stops the server (SIGKILL: as abrupt as a crash) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #waitForPing(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const client = new Redis(this.port, '127.0.0.1', {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        disconnectTimeout: 50,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.ping();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }
}

/** A Redis Cluster of `masters` primaries and no replicas on loopback ports, slots assigned. */
export class RedisCluster {
  readonly servers: RedisServer[];

  private constructor(servers: RedisServer[]) {
    this.servers = servers;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const servers: RedisServer[] = [];
    try {
      for (let index = 0; index < masters; index += 1) {
        const port = await freePort(10000);
        servers.push(
          await RedisServer.start({
            port,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
          }),
        );
      }
      const create = spawnSync(
        'redis-cli',
        ['--cluster', 'create', ...servers.map((server) => `127.0.0.1:${server.port}`), '--cluster-replicas', '0', '--cluster-yes'],
        { encoding: 'utf8' },
      );
      if (create.status !== 0 || !create.stdout.includes('All 16384 slots covered'))
        throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      await waitForClusterOk(servers);
      return new RedisCluster(servers);
    } catch (error) {
      await Promise.all(servers.map((server) => server.destroy()));
      throw error;
    }
  }

  get url(): string {
    return `redis+cluster://${this.servers.map((server) => `127.0.0.1:${server.port}`).join(',')}`;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.destroy()));
  }
}

async function waitForClusterOk(servers: RedisServer[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const states = servers.map(
      (server) => spawnSync('redis-cli', ['-p', String(server.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
    );
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the Redis Cluster did not reach cluster_state:ok');
}
