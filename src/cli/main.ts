/**
 * `oidc-testbed start [--config FILE] [--port 9400] [--host 127.0.0.1] [--issuer URL] …`
 * `oidc-testbed check FILE`
 * `oidc-testbed conformance PLAN.yaml …` (conformance.ts)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FixtureError } from '../fixtures/load.ts';
import type { LogLevel } from '../log.ts';
import { defaultKeysFile } from '../provider/keys.ts';
import { StoreStartupError, StoreUnavailableError } from '../store/store-unavailable.ts';
import { checkFixture, startTestbed, type Testbed } from '../testbed.ts';
import { CONFORMANCE_USAGE, ConformanceUsageError, conformance } from './conformance.ts';
import { CONTROL_TOKEN, CONTROL_TOKEN_RULE, EnvironmentError, readEnvironment } from './environment.ts';

const USAGE = `Usage:
  oidc-testbed start [--config FILE] [--port 9400] [--host 127.0.0.1] [--issuer URL]
                     [--keys FILE | --ephemeral-keys] [--log-level info] [--no-auto-login]
                     [--profile-api-port 9401] [--directory-api-port 9402] [--no-apis]
                     [--redis URL] [--redis-prefix oidc-testbed:] [--wait-for-redis]
                     [--control-token TOKEN]
  oidc-testbed check FILE
${CONFORMANCE_USAGE}
  oidc-testbed --help`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command === 'check') return await check(rest);
    if (command === 'start') return await start(rest);
    if (command === 'conformance') return await conformance(rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (
      error instanceof FixtureError ||
      error instanceof UsageError ||
      error instanceof ConformanceUsageError ||
      error instanceof StartupError ||
      error instanceof EnvironmentError
    ) {
      console.error(`oidc-testbed: ${error.message}`);
      if (error instanceof UsageError || error instanceof ConformanceUsageError) console.error(USAGE);
      return 2;
    }
    throw error;
  }
}

class UsageError extends Error {}
class StartupError extends Error {}

/** Every check `start` runs on a fixture (its rules, then oidc-provider's validation of each client), without serving it. */
async function check(args: string[]): Promise<number> {
  const [file, ...extra] = args;
  if (!file || extra.length > 0) throw new UsageError('check takes exactly one fixture file');
  const fixture = await checkFixture({ fixture: file });
  const moreIssuers =
    fixture.issuers.length > 0
      ? `, ${fixture.issuers.length} more issuer${fixture.issuers.length > 1 ? 's' : ''} (${fixture.issuers.map((issuer) => issuer.path).join(', ')})`
      : '';
  console.log(
    `${file}: OK — ${fixture.clients.length} clients, ${fixture.users.length} users, ${fixture.resources.length} resources${moreIssuers}`,
  );
  return 0;
}

async function start(args: string[]): Promise<number> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by the parseArgs result assigned below
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        issuer: { type: 'string' },
        keys: { type: 'string' },
        'ephemeral-keys': { type: 'boolean' },
        'log-level': { type: 'string' },
        'no-auto-login': { type: 'boolean' },
        'profile-api-port': { type: 'string' },
        'directory-api-port': { type: 'string' },
        'no-apis': { type: 'boolean' },
        redis: { type: 'string' },
        'redis-prefix': { type: 'string' },
        'wait-for-redis': { type: 'boolean' },
        'control-token': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  // Container configuration (environment.ts); every flag wins over its variable.
  const env = readEnvironment(process.env);
  const port = values.port === undefined ? (env.port ?? 9400) : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
  if (values.issuer !== undefined && !URL.canParse(values.issuer))
    throw new UsageError(`--issuer must be an absolute URL, got "${values.issuer}"`);
  const apiPort = (flag: 'profile-api-port' | 'directory-api-port') => {
    if (values[flag] === undefined) return flag === 'profile-api-port' ? env.profileApiPort : env.directoryApiPort;
    const value = Number(values[flag]);
    if (!Number.isInteger(value) || value < 0 || value > 65535)
      throw new UsageError(`--${flag} must be a port number, got "${values[flag]}"`);
    return value;
  };
  const apis = values['no-apis']
    ? (false as const)
    : { profile: { port: apiPort('profile-api-port') }, directory: { port: apiPort('directory-api-port') } };
  // Redis: --redis, else REDIS_URL, else the fixture's redis.url; the prefix and waiting apply to whichever.
  const redisUrl = values.redis ?? env.redisUrl;
  const redis =
    redisUrl === undefined && values['redis-prefix'] === undefined && !values['wait-for-redis']
      ? undefined
      : { url: redisUrl, prefix: values['redis-prefix'], waitForConnection: values['wait-for-redis'] ?? false };
  const logLevel = (values['log-level'] ?? env.logLevel ?? 'info') as LogLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new UsageError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent`);

  const controlToken = values['control-token'] ?? env.controlToken;
  if (values['control-token'] !== undefined && !CONTROL_TOKEN.test(values['control-token']))
    throw new UsageError(`--control-token ${CONTROL_TOKEN_RULE}`);

  let testbed: Testbed;
  try {
    testbed = await startTestbed({
      fixture: values.config ?? env.fixture ?? env.fixtureFile,
      port,
      host: values.host ?? env.host ?? '127.0.0.1',
      issuer: values.issuer ?? env.issuer,
      keysFile: values['ephemeral-keys'] ? false : (values.keys ?? env.keysFile ?? defaultKeysFile()),
      autoLogin: values['no-auto-login'] ? false : env.autoLogin,
      logLevel,
      apis,
      redis,
      controlToken,
    });
  } catch (error) {
    if (error instanceof StoreStartupError || error instanceof StoreUnavailableError)
      throw new StartupError(error instanceof StoreUnavailableError ? (error.error_detail ?? error.message) : error.message);
    const { code, syscall, path } = error as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE') {
      const taken = (error as { port?: number }).port ?? port;
      throw new StartupError(
        `port ${taken} is already in use: stop the other server or pass ${taken === port ? '--port' : '--profile-api-port / --directory-api-port (or --no-apis)'}`,
      );
    }
    if (syscall === 'listen' && (code === 'EACCES' || code === 'EADDRNOTAVAIL'))
      throw new StartupError(`cannot listen on ${values.host ?? env.host ?? '127.0.0.1'}:${port} (${code})`);
    // The keys file (--keys, OIDC_TESTBED_KEYS_FILE, or the state directory a container volume holds).
    if (path && (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR' || code === 'EISDIR'))
      throw new StartupError(`${path}: cannot write the keys file (${code}): make it writable, or pass --keys FILE or --ephemeral-keys`);
    throw error;
  }
  printBanner(testbed);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.error(`oidc-testbed: ${signal}, stopping`);
      void testbed.stop().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

function printBanner(testbed: Testbed): void {
  const { fixture, urls } = testbed;
  const lines = [
    `oidc-testbed is up`,
    `  issuer     ${urls.issuer}`,
    `  discovery  ${urls.discovery}`,
    `  console    ${urls.issuer}/_testbed/`,
    `  health     ${urls.health}`,
    `  clients    ${fixture.clients.map((client) => client.client_id).join(', ')}`,
    `  users      ${fixture.users.map((user) => user.username).join(', ')}`,
    `  resources  ${fixture.resources.map((resource) => `${resource.name} ${resource.indicator}`).join(', ')}`,
    ...Object.entries(testbed.issuers)
      .filter(([path]) => path)
      .map(
        ([, issuer]) =>
          `  issuer     ${issuer.issuer} (${issuer.fixture.issuer.profile === 'none' ? 'no profile' : `${issuer.fixture.issuer.profile} profile`}; clients ${issuer.fixture.clients.map((client) => client.client_id).join(', ')})`,
      ),
    ...(fixture.issuer.features.ciba.enabled ? [`  CIBA       ${urls.issuer}/_testbed/ciba (pending requests to approve or deny)`] : []),
    ...(urls.profileApi ? [`  profile API    ${urls.profileApi} (userinfo, me)`] : []),
    ...(urls.directoryApi ? [`  directory API  ${urls.directoryApi} (info/login, managed/user)`] : []),
  ];
  console.error(lines.join('\n'));
}

// Run directly (`node src/cli/main.ts start`, as `npm start` does); bin/oidc-testbed.js imports main().
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
