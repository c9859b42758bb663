import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { EnvironmentError, type EnvironmentFiles, FIXTURE_MOUNT_PATH, readEnvironment } from '../../src/cli/environment.ts';
import { FixtureError } from '../../src/fixtures/load.ts';

const none: EnvironmentFiles = { exists: () => false };
const only = (...paths: string[]): EnvironmentFiles => ({ exists: (path) => paths.includes(path) });

function failure(env: Record<string, string>, files = none): Error {
  try {
    readEnvironment(env, files);
  } catch (error) {
    return error as Error;
  }
  throw new Error('readEnvironment accepted the environment');
}

const MINIMAL_YAML = `
issuer: { auto_login: true }
users: [{ username: carol, password: carol-password, sub: carol }]
clients:
  - client_id: compose-rp
    client_secret: compose-secret
    redirect_uris: [http://localhost:8080/callback]
`;

describe('readEnvironment: env → start options', () => {
  it('reads nothing from an environment without testbed variables', () => {
    expect(readEnvironment({ PATH: '/usr/bin', HOME: '/home/node' }, none)).toEqual({});
  });

  it('maps every common setting', () => {
    expect(
      readEnvironment(
        {
          OIDC_TESTBED_ISSUER: 'http://localhost:8080/',
          OIDC_TESTBED_HOST: '0.0.0.0',
          OIDC_TESTBED_PORT: '9400',
          OIDC_TESTBED_PROFILE_API_PORT: '9401',
          OIDC_TESTBED_DIRECTORY_API_PORT: '0',
          REDIS_URL: 'redis://redis:6379/2',
          OIDC_TESTBED_LOG_LEVEL: 'DEBUG',
          OIDC_TESTBED_AUTO_LOGIN: 'false',
          OIDC_TESTBED_KEYS_FILE: '/state/keys.json',
        },
        none,
      ),
    ).toEqual({
      issuer: 'http://localhost:8080',
      host: '0.0.0.0',
      port: 9400,
      profileApiPort: 9401,
      directoryApiPort: 0,
      redisUrl: 'redis://redis:6379/2',
      logLevel: 'debug',
      autoLogin: false,
      keysFile: '/state/keys.json',
    });
  });

  it('treats empty variables as unset (compose `VAR:` and `-e VAR=`)', () => {
    expect(readEnvironment({ OIDC_TESTBED_PORT: '', OIDC_TESTBED_ISSUER: '  ', REDIS_URL: '' }, none)).toEqual({});
  });

  it('accepts true/false and 1/0 for auto-login', () => {
    expect(readEnvironment({ OIDC_TESTBED_AUTO_LOGIN: 'TRUE' }, none).autoLogin).toBe(true);
    expect(readEnvironment({ OIDC_TESTBED_AUTO_LOGIN: '0' }, none).autoLogin).toBe(false);
  });

  it('accepts IPv6 and host-name bind addresses', () => {
    expect(readEnvironment({ OIDC_TESTBED_HOST: '::' }, none).host).toBe('::');
    expect(readEnvironment({ OIDC_TESTBED_HOST: 'testbed' }, none).host).toBe('testbed');
  });

  it('parses an inline YAML fixture', () => {
    const { fixture } = readEnvironment({ OIDC_TESTBED_FIXTURE: MINIMAL_YAML }, none);
    expect(fixture?.clients.map((client) => client.client_id)).toEqual(['compose-rp']);
    expect(fixture?.users.map((user) => user.username)).toEqual(['carol']);
  });

  it('parses an inline JSON fixture', () => {
    const json = JSON.stringify({ clients: [{ client_id: 'json-rp', client_secret: 's', redirect_uris: ['http://localhost:8080/cb'] }] });
    expect(readEnvironment({ OIDC_TESTBED_FIXTURE: json }, none).fixture?.clients[0].client_id).toBe('json-rp');
  });

  it('names the variable and the path inside an inline fixture that does not validate', () => {
    const error = failure({
      OIDC_TESTBED_FIXTURE: 'clients:\n  - client_id: x\n    client_secret: s\n    token_endpoint_auth_method: magic\n',
    });
    expect(error).toBeInstanceOf(FixtureError);
    expect((error as FixtureError).source).toBe('OIDC_TESTBED_FIXTURE');
    expect(error.message).toMatch(/^OIDC_TESTBED_FIXTURE: clients\[0\]\.token_endpoint_auth_method: must be one of .*\(line 4\)$/);
    expect(error.message).not.toContain('\n');
  });

  it('names the variable of an inline fixture that is not YAML', () => {
    const error = failure({ OIDC_TESTBED_FIXTURE: '{ "clients": [' });
    expect(error).toBeInstanceOf(FixtureError);
    expect(error.message).toMatch(/^OIDC_TESTBED_FIXTURE: not valid YAML\/JSON/);
    expect(error.message).not.toContain('\n');
  });

  it('uses OIDC_TESTBED_FIXTURE_PATH when the file exists, and names it when not', () => {
    expect(readEnvironment({ OIDC_TESTBED_FIXTURE_PATH: '/work/fixture.yaml' }, only('/work/fixture.yaml'))).toEqual({
      fixtureFile: '/work/fixture.yaml',
    });
    expect(failure({ OIDC_TESTBED_FIXTURE_PATH: '/work/missing.yaml' }).message).toBe(
      'OIDC_TESTBED_FIXTURE_PATH names a file that does not exist: "/work/missing.yaml"',
    );
  });

  it('reads the standard mount path when present and nothing else names a fixture', () => {
    expect(readEnvironment({}, only(FIXTURE_MOUNT_PATH))).toEqual({ fixtureFile: '/config/fixture.yaml' });
    expect(readEnvironment({ OIDC_TESTBED_FIXTURE_PATH: '/other.yaml' }, only(FIXTURE_MOUNT_PATH, '/other.yaml')).fixtureFile).toBe(
      '/other.yaml',
    );
    expect(readEnvironment({ OIDC_TESTBED_FIXTURE: MINIMAL_YAML }, only(FIXTURE_MOUNT_PATH))).not.toHaveProperty('fixtureFile');
  });

  it('refuses an inline fixture and a fixture path together', () => {
    expect(failure({ OIDC_TESTBED_FIXTURE: MINIMAL_YAML, OIDC_TESTBED_FIXTURE_PATH: '/f.yaml' }, only('/f.yaml')).message).toBe(
      'OIDC_TESTBED_FIXTURE and OIDC_TESTBED_FIXTURE_PATH are both set: set only one',
    );
  });

  it.each([
    ['OIDC_TESTBED_PORT', 'abc', 'OIDC_TESTBED_PORT must be a port number (0-65535), got "abc"'],
    ['OIDC_TESTBED_PORT', '65536', 'OIDC_TESTBED_PORT must be a port number (0-65535), got "65536"'],
    ['OIDC_TESTBED_PORT', '-1', 'OIDC_TESTBED_PORT must be a port number (0-65535), got "-1"'],
    ['OIDC_TESTBED_PROFILE_API_PORT', '94.01', 'OIDC_TESTBED_PROFILE_API_PORT must be a port number (0-65535), got "94.01"'],
    ['OIDC_TESTBED_DIRECTORY_API_PORT', '1e3', 'OIDC_TESTBED_DIRECTORY_API_PORT must be a port number (0-65535), got "1e3"'],
    ['OIDC_TESTBED_ISSUER', 'localhost:9400', 'OIDC_TESTBED_ISSUER must be an absolute http:// or https:// URL, got "localhost:9400"'],
    [
      'OIDC_TESTBED_ISSUER',
      'ftp://idp.example',
      'OIDC_TESTBED_ISSUER must be an absolute http:// or https:// URL, got "ftp://idp.example"',
    ],
    [
      'OIDC_TESTBED_ISSUER',
      'https://idp.example/?tenant=1',
      'OIDC_TESTBED_ISSUER must not have a query or fragment, got "https://idp.example/?tenant=1"',
    ],
    [
      'OIDC_TESTBED_HOST',
      'http://0.0.0.0',
      'OIDC_TESTBED_HOST must be an IP address or host name to listen on (0.0.0.0 for every interface), got "http://0.0.0.0"',
    ],
    [
      'OIDC_TESTBED_LOG_LEVEL',
      'verbose',
      'OIDC_TESTBED_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    ['OIDC_TESTBED_AUTO_LOGIN', 'yes please', 'OIDC_TESTBED_AUTO_LOGIN must be true or false, got "yes please"'],
    [
      'REDIS_URL',
      'localhost:6379',
      expect.stringMatching(
        /^REDIS_URL is not a usable Redis URL: a Redis URL must start with redis:\/\/, rediss:\/\/, .*\(got a localhost: URL\)$/,
      ),
    ],
    ['REDIS_URL', 'redis+sentinel://s1:26379', expect.stringMatching(/^REDIS_URL is not a usable Redis URL: .*name the master/)],
  ])('%s=%j is refused with one line naming it', (name, value, message) => {
    const error = failure({ [name]: value });
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).variable).toBe(name);
    expect(error.message).toEqual(message);
    expect(error.message).not.toContain('\n');
  });

  it('never shows the password of a Redis URL', () => {
    for (const url of ['http://user:s3cret@redis:6379', 'redis+sentinel://user:s3cret@s1:26379']) {
      const error = failure({ REDIS_URL: url });
      expect(error.message).toMatch(/^REDIS_URL is not a usable Redis URL: /);
      expect(error.message).not.toContain('s3cret');
    }
  });

  it('accepts the Redis URLs the store accepts (standalone, Sentinel, Cluster)', () => {
    for (const url of [
      'rediss://:pw@redis.example:6380/1',
      'redis+sentinel://s1:26379,s2:26379/mymaster',
      'redis+cluster://n1:7000,n2:7000',
    ]) {
      expect(readEnvironment({ REDIS_URL: url }, none).redisUrl).toBe(url);
    }
  });

  it('reads the control token, and refuses a short one without showing it', () => {
    expect(readEnvironment({ OIDC_TESTBED_CONTROL_TOKEN: 'f3a9c1d2e4b5a6978877665544332211' }, none).controlToken).toBe(
      'f3a9c1d2e4b5a6978877665544332211',
    );
    const error = failure({ OIDC_TESTBED_CONTROL_TOKEN: 'hunter2' });
    expect(error.message).toMatch(/^OIDC_TESTBED_CONTROL_TOKEN must be at least 16 characters/);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses an unknown OIDC_TESTBED_ variable (a typo would otherwise be ignored)', () => {
    const error = failure({ OIDC_TESTBED_ISSUR: 'http://localhost:9400' });
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toMatch(
      /^OIDC_TESTBED_ISSUR is not a setting of oidc-testbed \(known: OIDC_TESTBED_FIXTURE, .*OIDC_TESTBED_ISSUER/,
    );
  });

  it('shortens a long value in the message', () => {
    const error = failure({ OIDC_TESTBED_LOG_LEVEL: 'x'.repeat(500) });
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('oidc-testbed start with a broken variable', () => {
  it('exits 2 with one line on stderr naming the variable', async () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const child = spawn(process.execPath, [main, 'start', '--ephemeral-keys'], {
      env: { PATH: process.env.PATH, OIDC_TESTBED_PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toBe('oidc-testbed: OIDC_TESTBED_PORT must be a port number (0-65535), got "abc"\n');
    expect(stdout).toBe('');
  });
});
