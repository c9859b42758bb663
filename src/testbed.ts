/**
 * The library entry point: `startTestbed()` serves one or more issuers over HTTP and returns their
 * URLs and a `stop()`. The configuration flows one way: fixture → validated fixture → servers.
 */
import Koa from 'koa';
import { controlAccess } from './control/access.ts';
import { DEFAULT_FIXTURE_PATH, FixtureError, loadDefaultFixture, loadFixtureFile, validateFixture } from './fixtures/load.ts';
import type { Fixture, FixtureInput } from './fixtures/schema.ts';
import { answerErrors, oauthErrorAnswers } from './http/error-answers.ts';
import { listenHttp } from './http/http-server.ts';
import { requestLog } from './http/request-log.ts';
import { RequestRecord, recordRequests } from './http/request-record.ts';
import type { Issuer, IssuerUrls } from './issuers/create-issuer.ts';
import { routeIdpRequest } from './issuers/dispatch.ts';
import { createLogger, type Logger, type LogLevel, silentLogger } from './log.ts';
import { keyPoolAt } from './provider/key-pool.ts';
import { resolveKeys } from './provider/keys.ts';
import { errorPage } from './provider/ui/pages.ts';
import type { MockApisOptions } from './resource-servers/start-apis.ts';
import type { ScenarioHandle } from './scenarios/handle.ts';
import type { CatalogEntry } from './scenarios/runs.ts';
import { MemoryStore } from './store/memory-store.ts';
import { openStore } from './store/open-store.ts';
import type { RedisStoreOptions } from './store/redis-store.ts';
import type { Store } from './store/store.ts';

export interface TestbedOptions {
  /** A fixture file path, an in-memory fixture, or nothing for the embedded default fixture. */
  fixture?: string | FixtureInput;
  /** Port of the IdP; 0 picks a free one. Default 9400. */
  port?: number;
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** Public issuer URL when it differs from the bind address (containers, proxies). */
  issuer?: string;
  /** Where generated keys are kept across restarts; `false` (the default here) keeps them in memory. Unused with Redis, which keeps them. */
  keysFile?: string | false;
  /**
   * Where RSA keys are made ahead of need, for every process of this user: a testbed given no keys
   * takes a pair of its own from there instead of spending 50–250 ms generating them (default
   * `$XDG_CACHE_HOME/oidc-testbed/rsa-keys`, else `~/.cache/…`). `false` generates them at start.
   */
  keyPool?: string | false;
  /**
   * Keep state (sessions, tokens, keys, claim changes) in Redis: a URL or options. Testbeds on one
   * Redis with the same issuer and prefix are replicas of one IdP. `false` keeps state in memory even
   * when the fixture names Redis. Default: the fixture's `redis`, else memory.
   */
  redis?: string | Partial<RedisStoreOptions> | false;
  /** A store opened by the caller, e.g. one RedisStore shared by several testbeds; not closed by `stop()`. */
  store?: Store;
  /** Overrides `issuer.auto_login` of the fixture. */
  autoLogin?: boolean;
  /** Log level of the JSON log on stdout. Default `warn`; the CLI uses `info`. */
  logLevel?: LogLevel;
  /** A pino logger to use instead (its level wins). */
  logger?: Logger;
  /**
   * The mock resource servers (profile API, directory API) beside the IdP, or `false` for none.
   * With `port: 0` for the IdP they default to port 0 too.
   */
  apis?: MockApisOptions | false;
  /**
   * The control endpoints (`<issuer>/_testbed/…`, e.g. CIBA approval) answer clients on this machine;
   * others must send `Authorization: Bearer <controlToken>`, and without one are refused.
   */
  controlToken?: string;
  /** Scenario runs unused this long are dropped (default 30 minutes). */
  scenarioIdleMs?: number;
}

/** Where a client finds the testbed: the main issuer's endpoints, its health check, and the mock APIs. */
export interface TestbedUrls extends IssuerUrls {
  health: string;
  /** Base URL of the profile API (`…/userinfo`, `…/me`), when it runs. */
  profileApi?: string;
  /** Base URL of the directory API (`…/openidm/`), when it runs. */
  directoryApi?: string;
}

export interface Testbed {
  /** The issuer identifier (`iss` of every token). */
  readonly issuer: string;
  readonly urls: TestbedUrls;
  /** The validated fixture the testbed serves. */
  readonly fixture: Fixture;
  /** The main issuer: its oidc-provider instance and registries, for advanced test set-ups. */
  readonly main: Issuer;
  /** Every issuer served, by path: '' is the main one, then the fixture's `issuers` (e.g. '/fapi2'). */
  readonly issuers: Readonly<Record<string, Issuer>>;
  /** What the IdP port answered: the last 1,000 requests (no query, body or token), and a listener per request. */
  readonly requests: RequestRecord;
  /** The conformance scenarios, each with its standing issuer (`<issuer>/scenarios/<name>`). */
  readonly scenarios: readonly CatalogEntry[];
  /** A scenario's run (`run`: an isolated one, e.g. a random id per test), created if needed. */
  scenario(name: string, options?: { run?: string }): Promise<ScenarioHandle>;
  /**
   * Puts every issuer of the fixture (the main one, '/fapi2', …) back to its fixture: what each
   * `issuer.reset()` does (users, clients, keys, faults, clock, sessions, direct tokens, record).
   * Scenario runs are left as they are (each has its own `…/_testbed/reset`).
   */
  reset(): Promise<void>;
  /** Stops accepting connections, closes open ones and releases the store. */
  stop(): Promise<void>;
}

export async function startTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  // Loaded while the store opens, the port binds and the keys are read, not at import (issue 24).
  const later = laterModules();
  later.catch(() => {}); // awaited below; a start that fails first must not leave it unhandled
  const fixture = resolveFixture(options);
  const ownLog = options.logger ? undefined : createLogger(options.logLevel ?? 'warn');
  const logger = options.logger ?? ownLog!.logger;
  const host = options.host ?? '127.0.0.1';
  // What start-up has opened so far, closed in reverse order by stop() or by a failed start.
  const opened: Array<() => Promise<void>> = [];
  if (ownLog) opened.push(async () => ownLog.close());
  const closeAll = async () => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  const { store: rootStore, owned: ownsStore } = await openStore(options, fixture, logger).catch(async (error: unknown) => {
    await closeAll();
    throw error;
  });
  if (ownsStore) opened.push(() => rootStore.close());

  try {
    const idp = await listenHttp(options.port ?? 9400, host);
    opened.push(idp.close);
    const issuerUrl = trimSlash(options.issuer ?? fixture.issuer.url ?? `http://${publicHost(host)}:${idp.port}`);

    // Each issuer works in its own namespace of the store; with Redis, keys live there too (shared by replicas).
    const sharedStore = rootStore.kind !== 'memory';
    const pool = options.keyPool === false ? undefined : keyPoolAt(options.keyPool);
    const keys = await resolveKeys(fixture.keys, {
      file: sharedStore ? false : (options.keysFile ?? false),
      shared: sharedStore ? rootStore.namespace(issuerUrl) : undefined,
      pool,
    });
    const { createIssuers, refusedClients, ScenarioRuns, scenarioCatalogRoute, scenarioHandle, startMockApis } = await later;
    const { issuers, mainUsers } = createIssuers(fixture, { issuerUrl, rootStore, keys, logger, controlToken: options.controlToken });
    const main = issuers[''];
    const scenarioRuns = new ScenarioRuns({
      issuer: issuerUrl,
      mountPath: main.mountPath,
      // Scenario runs have the main fixture's users and clients, not its fault rules.
      fixture: { ...fixture, issuers: [], faults: [] },
      users: mainUsers,
      logger,
      mainKeys: keys,
      controlToken: options.controlToken,
      ...(options.scenarioIdleMs ? { idleMs: options.scenarioIdleMs } : {}),
    });
    opened.push(() => scenarioRuns.close());
    main.console.showScenarios(() => scenarioRuns.standing()); // the scenario table of the main issuer's console
    // Runs while the mock APIs start; a client the engine refuses still stops the start.
    const clientCheck = refusedClients(fixture, issuers);

    const app = new Koa({ keys: keys.cookies, proxy: true });
    app.silent = true;
    const requests = new RequestRecord();
    app.use(recordRequests(requests));
    if (logger.isLevelEnabled('info')) app.use(requestLog(logger));
    app.use(answerErrors(oauthErrorAnswers(logger, { error: 'not_found', description: 'no such endpoint' }), { page: errorPage }));
    app.use(
      scenarioCatalogRoute({
        mountPath: main.mountPath,
        runs: scenarioRuns,
        guard: controlAccess({ issuer: issuerUrl, controlToken: options.controlToken }),
      }),
    );
    app.use(
      routeIdpRequest({
        dynamic: scenarioRuns,
        health: async (ctx) => {
          const health = await rootStore.health();
          ctx.status = health.ok ? 200 : 503;
          ctx.body = { status: health.ok ? 'ok' : 'unavailable', issuer: issuerUrl, store: health };
        },
        issuers: Object.values(issuers),
      }),
    );
    idp.serve(app.callback());

    // The mock resource servers, each on its own port, trusting this issuer (src/resource-servers).
    const [apisStarted, checked] = await Promise.allSettled([
      startMockApis(options.apis, {
        main,
        others: Object.values(issuers).filter((issuer) => issuer !== main),
        madeLater: scenarioRuns,
        users: mainUsers,
        logger,
        host,
        publicHost: publicHost(host),
        idpPort: idp.port,
        idpPortRequested: options.port ?? 9400,
      }),
      clientCheck,
    ]);
    if (apisStarted.status === 'fulfilled') opened.push(apisStarted.value.stop);
    if (checked.status === 'rejected') throw checked.reason;
    const refused = checked.value;
    if (refused.length > 0) throw new FixtureError(fixtureSource(options), refused);
    if (apisStarted.status === 'rejected') throw apisStarted.reason;
    const apis = apisStarted.value;

    return {
      issuer: issuerUrl,
      urls: { ...main.urls, health: `http://${publicHost(host)}:${idp.port}/healthz`, ...apis.urls },
      fixture,
      main,
      issuers,
      requests,
      scenarios: scenarioRuns.catalog(),
      scenario: (name, scenarioOptions = {}) => scenarioHandle(scenarioRuns, name, scenarioOptions),
      reset: async () => {
        for (const issuer of Object.values(issuers)) await issuer.reset();
      },
      stop: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * What every start needs and an import of the package does not: the issuers (the engine configured,
 * the control routes), the scenario runs and the mock APIs. One after another: jest's ESM loader
 * fails to link a module that two pending dynamic imports share.
 */
async function laterModules() {
  const { createIssuers, refusedClients } = await import('./issuers/issuer-set.ts');
  const { ScenarioRuns } = await import('./scenarios/runs.ts');
  const { scenarioCatalogRoute } = await import('./scenarios/catalog-page.ts');
  const { scenarioHandle } = await import('./scenarios/handle.ts');
  const { startMockApis } = await import('./resource-servers/start-apis.ts');
  return { createIssuers, refusedClients, ScenarioRuns, scenarioCatalogRoute, scenarioHandle, startMockApis };
}

/**
 * What `startTestbed` refuses a fixture for, found without serving it or keeping any state: its
 * own rules (`FixtureError` while loading), then every issuer built as a start builds them (in
 * memory, with keys of the fixture or fresh ones) and the clients oidc-provider refuses, thrown as
 * one `FixtureError`. `oidc-testbed check` runs it.
 */
export async function checkFixture(options: Pick<TestbedOptions, 'fixture' | 'issuer' | 'keyPool'> = {}): Promise<Fixture> {
  const fixture = resolveFixture(options);
  const rootStore = new MemoryStore();
  try {
    const keys = await resolveKeys(fixture.keys, { file: false, pool: options.keyPool === false ? undefined : keyPoolAt(options.keyPool) });
    const issuerUrl = trimSlash(options.issuer ?? fixture.issuer.url ?? 'http://localhost:9400');
    const { createIssuers, refusedClients } = await import('./issuers/issuer-set.ts');
    const { issuers } = createIssuers(fixture, { issuerUrl, rootStore, keys, logger: silentLogger() });
    const refused = await refusedClients(fixture, issuers);
    if (refused.length > 0) throw new FixtureError(fixtureSource(options), refused);
    return fixture;
  } finally {
    await rootStore.close();
  }
}

function fixtureSource(options: Pick<TestbedOptions, 'fixture'>): string {
  if (options.fixture === undefined) return DEFAULT_FIXTURE_PATH;
  return typeof options.fixture === 'string' ? options.fixture : 'fixture';
}

function resolveFixture(options: Pick<TestbedOptions, 'fixture' | 'autoLogin'>): Fixture {
  const fixture =
    options.fixture === undefined
      ? loadDefaultFixture()
      : typeof options.fixture === 'string'
        ? loadFixtureFile(options.fixture)
        : validateFixture(options.fixture);
  const autoLogin = options.autoLogin;
  if (autoLogin === undefined) return fixture;
  return {
    ...fixture,
    issuer: { ...fixture.issuer, auto_login: autoLogin },
    issuers: fixture.issuers.map((extra) => ({ ...extra, issuer: { ...extra.issuer, auto_login: autoLogin } })),
  };
}

/** Browsers and RPs on this machine reach a loopback or wildcard bind as `localhost`. */
function publicHost(host: string): string {
  if (['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
