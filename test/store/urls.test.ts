/**
 * The Redis URLs the testbed accepts: parsing and redaction, then a real Sentinel
 * (redis+sentinel://) and a real TLS server (rediss://) carrying the core flows.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestbed, type Testbed } from '../../src/index.ts';
import { parseRedisUrl, RedisUrlError, redactRedisUrl } from '../../src/store/redis-url.ts';
import { postForm } from '../support/http.ts';
import { SUITE_FIXTURE, uniquePrefix } from '../support/store.ts';
import { clientCredentialsRevocation, codeRefreshIntrospectRevoke } from './core-flows.ts';
import { freePort, RedisServer, requireRedisBinaries } from './redis-servers.ts';
import { runCli, waitForBanner } from './testbed-processes.ts';

const binaries = requireRedisBinaries();

describe('Redis URLs', () => {
  it('knows the topology of each scheme', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2').topology).toBe('standalone');
    expect(parseRedisUrl('rediss://cache.example:6380').topology).toBe('standalone');
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7000').topology).toBe('cluster');
    expect(parseRedisUrl('rediss+cluster://[::1]:7000').topology).toBe('cluster');
    expect(parseRedisUrl('redis+sentinel://s1:26379,s2/mymaster/0').topology).toBe('sentinel');
  });

  it('never shows passwords', () => {
    expect(redactRedisUrl('redis://:hunter2@host:6379')).toBe('redis://:***@host:6379');
    expect(redactRedisUrl('rediss://app:hunter2@host')).toBe('rediss://app:***@host');
    expect(redactRedisUrl('redis://hunter2@host')).toBe('redis://***@host');
    expect(redactRedisUrl('redis+sentinel://u:p@s1,s2/m?sentinelPassword=hunter2&x=1')).toBe(
      'redis+sentinel://u:***@s1,s2/m?sentinelPassword=***&x=1',
    );
    expect(parseRedisUrl('redis://:hunter2@host:6379').display).not.toContain('hunter2');
  });

  it('rejects what it cannot use, naming the problem without the password', () => {
    const problem = (url: string) => {
      try {
        parseRedisUrl(url);
      } catch (error) {
        expect(error).toBeInstanceOf(RedisUrlError);
        return (error as Error).message;
      }
      throw new Error(`${url} was accepted`);
    };
    expect(problem('http://:hunter2@host')).toMatch(/must start with redis:\/\//);
    expect(problem('memcached://host')).toContain('got a memcached: URL');
    expect(problem('redis+sentinel://:hunter2@s1:26379')).toMatch(/name the master/);
    expect(problem('redis+sentinel://:hunter2@s1:26379')).not.toContain('hunter2');
    expect(problem('redis+cluster://host:99999')).toMatch(/is not host:port/);
    expect(problem('redis+cluster://host:7000/3')).toMatch(/no database number/);
  });
});

(binaries ? describe : describe.skip)('behind Redis Sentinel (redis+sentinel://)', () => {
  let primary: RedisServer;
  let sentinel: RedisServer;
  let testbed: Testbed;
  beforeAll(async () => {
    primary = await RedisServer.start();
    sentinel = await RedisServer.start({
      sentinelConfig: `sentinel monitor testbed 127.0.0.1 ${primary.port} 1\nsentinel down-after-milliseconds testbed 5000\n`,
    });
    testbed = await startTestbed({
      port: 0,
      fixture: SUITE_FIXTURE,
      apis: false,
      logLevel: 'silent',
      redis: { url: `redis+sentinel://127.0.0.1:${sentinel.port}/testbed`, prefix: uniquePrefix('sentinel') },
    });
  }, 30000);
  afterAll(async () => {
    await testbed?.stop();
    await sentinel?.destroy();
    await primary?.destroy();
  });

  it('finds the primary through the Sentinel and runs the core flows on it', async () => {
    await codeRefreshIntrospectRevoke(testbed.issuer);
    await clientCredentialsRevocation(testbed.issuer);
    const keys = spawnSync('redis-cli', ['-p', String(primary.port), 'dbsize'], { encoding: 'utf8' }).stdout.trim();
    expect(Number(keys)).toBeGreaterThan(0);
  });
});

const openssl = spawnSync('openssl', ['version']).status === 0;
if (!openssl && process.env.CI) throw new Error('openssl is not installed and CI is set: the TLS test must run');

(binaries && openssl ? describe : describe.skip)('over TLS (rediss://)', () => {
  let dir: string;
  let server: RedisServer;
  let tlsPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oidc-testbed-tls-'));
    const run = (args: string[]) => {
      const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
    };
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=oidc-testbed test CA',
    ]);
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    run([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '1',
      '-extfile',
      'san.cnf',
    ]);
    tlsPort = await freePort();
    server = await RedisServer.start({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(dir, 'server.crt'),
        '--tls-key-file',
        join(dir, 'server.key'),
        '--tls-ca-cert-file',
        join(dir, 'ca.crt'),
        '--tls-auth-clients',
        'no',
      ],
    });
  }, 30000);
  afterAll(async () => {
    await server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a testbed process trusting the CA (NODE_EXTRA_CA_CERTS) issues and introspects tokens', async () => {
    const run = runCli(
      [
        'start',
        '--port',
        '0',
        '--no-apis',
        '--redis',
        `rediss://localhost:${tlsPort}`,
        '--redis-prefix',
        uniquePrefix('tls'),
        '--log-level',
        'warn',
      ],
      { NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt') },
    );
    try {
      const port = await waitForBanner(run);
      const token = await postForm(
        `http://127.0.0.1:${port}/token`,
        { grant_type: 'client_credentials' },
        { basic: ['service-client', 'service-client-secret'] },
      );
      expect(token.status).toBe(200);
      const introspection = await postForm(
        `http://127.0.0.1:${port}/token/introspection`,
        { token: token.body.access_token as string },
        { basic: ['profile-api', 'profile-api-secret'] },
      );
      expect(introspection.body).toMatchObject({ active: true, client_id: 'service-client' });
      const keys = spawnSync('redis-cli', ['-p', String(server.port), 'dbsize'], { encoding: 'utf8' }).stdout.trim();
      expect(Number(keys)).toBeGreaterThan(0);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });
});
