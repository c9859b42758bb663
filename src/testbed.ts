/**
 * The library entry point: `startTestbed()` serves one or more issuers over HTTP and returns their
 * URLs and a `stop()`. The configuration flows one way: fixture → validated fixture → servers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import mount from 'koa-mount';
import { loadDefaultFixture, loadFixtureFile, validateFixture } from './fixtures/load.ts';
import type { Fixture, FixtureInput } from './fixtures/schema.ts';
import { createLogger, type Logger, type LogLevel } from './log.ts';
import { ROUTES } from './provider/configuration.ts';
import { createIssuer, type Issuer } from './provider/create-issuer.ts';
import { resolveKeys } from './provider/keys.ts';
import { errorBoundary, requestLog } from './server/middleware.ts';
import { MemoryStore } from './store/memory-store.ts';
import { UserDirectory } from './store/user-directory.ts';

export interface TestbedOptions {
  /** A fixture file path, an in-memory fixture, or nothing for the embedded default fixture. */
  fixture?: string | FixtureInput;
  /** Port of the IdP; 0 picks a free one. Default 9400. */
  port?: number;
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Public issuer URL when it differs from the bind address (containers, proxies). */
  issuer?: string;
  /** Where generated keys are kept across restarts; `false` (the default here) keeps them in memory. */
  keysFile?: string | false;
  /** Overrides `issuer.auto_login` of the fixture. */
  autoLogin?: boolean;
  /** Log level of the JSON log on stdout. Default `warn`; the CLI uses `info`. */
  logLevel?: LogLevel;
  /** A pino logger to use instead (its level wins). */
  logger?: Logger;
}

export interface TestbedUrls {
  issuer: string;
  discovery: string;
  authorizationServerMetadata: string;
  jwks: string;
  authorization: string;
  token: string;
  userinfo: string;
  introspection: string;
  revocation: string;
  deviceAuthorization: string;
  deviceVerification: string;
  endSession: string;
  health: string;
}

export interface Testbed {
  /** The issuer identifier (`iss` of every token). */
  readonly issuer: string;
  readonly urls: TestbedUrls;
  /** The validated fixture the testbed serves. */
  readonly fixture: Fixture;
  /** The main issuer: its oidc-provider instance and registries, for advanced test set-ups. */
  readonly main: Issuer;
  /** Stops accepting connections, closes open ones and releases the store. */
  stop(): Promise<void>;
}

export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const fixture = resolveFixture(options);
  const logger = options.logger ?? createLogger(options.logLevel ?? 'warn');
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  await listen(server, options.port ?? 9400, host);
  const { port } = server.address() as AddressInfo;
  const issuerUrl = trimSlash(options.issuer ?? fixture.issuer.url ?? `http://${publicHost(host)}:${port}`);

  const keys = await resolveKeys(fixture.keys, options.keysFile ?? false);
  const store = new MemoryStore();
  const users = new UserDirectory(fixture.users);
  const main = createIssuer({ issuer: issuerUrl, mountPath: new URL(issuerUrl).pathname.replace(/\/$/, ''), fixture, keys, store, users, logger });

  const app = new Koa({ keys: keys.cookies, proxy: true });
  app.silent = true;
  app.use(requestLog(logger));
  app.use(errorBoundary(logger));
  app.use(async (ctx, next) => {
    if (ctx.path !== '/healthz') return next();
    const health = await store.health();
    ctx.status = health.ok ? 200 : 503;
    ctx.body = { status: health.ok ? 'ok' : 'unavailable', issuer: issuerUrl, store: health };
    return undefined;
  });
  app.use(mount(main.mountPath || '/', main.provider as unknown as Koa));
  server.on('request', app.callback());

  const connections = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  return {
    issuer: issuerUrl,
    urls: urlsOf(issuerUrl, `http://${publicHost(host)}:${port}`),
    fixture,
    main,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const socket of connections) socket.destroy();
      await closed;
      await store.close();
    },
  };
}

function resolveFixture(options: TestbedOptions): Fixture {
  const fixture = options.fixture === undefined
    ? loadDefaultFixture()
    : typeof options.fixture === 'string' ? loadFixtureFile(options.fixture) : validateFixture(options.fixture);
  if (options.autoLogin === undefined) return fixture;
  return { ...fixture, issuer: { ...fixture.issuer, auto_login: options.autoLogin } };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Browsers and RPs on this machine reach a loopback or wildcard bind as `localhost`. */
function publicHost(host: string): string {
  if (['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function urlsOf(issuer: string, origin: string): TestbedUrls {
  const at = (path: string) => `${issuer}${path}`;
  return {
    issuer,
    discovery: at('/.well-known/openid-configuration'),
    authorizationServerMetadata: `${new URL(issuer).origin}/.well-known/oauth-authorization-server${new URL(issuer).pathname.replace(/\/$/, '')}`,
    jwks: at(ROUTES.jwks),
    authorization: at(ROUTES.authorization),
    token: at(ROUTES.token),
    userinfo: at(ROUTES.userinfo),
    introspection: at(ROUTES.introspection),
    revocation: at(ROUTES.revocation),
    deviceAuthorization: at(ROUTES.device_authorization),
    deviceVerification: at(ROUTES.code_verification),
    endSession: at(ROUTES.end_session),
    health: `${origin}/healthz`,
  };
}
