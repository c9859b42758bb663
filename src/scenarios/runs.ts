/**
 * The scenario issuers of one testbed: `<issuer>/scenarios/<name>` (a standing run) and
 * `<issuer>/scenarios/<name>/runs/<run>` (an isolated one), each created on its first request with
 * the main fixture's users, clients and settings, keys of its own, a request record and a verdict.
 * Idle runs are dropped after `idleMs`; a dropped standing run is made again on its next request.
 */
import type Router from '@koa/router';
import { SCENARIOS_PATH } from '../endpoints.ts';
import type { Fixture } from '../fixtures/schema.ts';
import { FORM, JSON_TYPES, parseBody } from '../http/request-body.ts';
import { RequestRecord } from '../http/request-record.ts';
import { createIssuer, type Issuer } from '../issuers/create-issuer.ts';
import type { DynamicIssuer, DynamicIssuers } from '../issuers/dispatch.ts';
import type { Logger } from '../log.ts';
import type { IssuerKeys } from '../provider/keys.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { SCENARIO_CATALOG, scenarioCatalog } from './catalog.ts';
import { RunKeyReservoir } from './run-keys.ts';
import type { RunContext, ScenarioDefinition, ScenarioInfo } from './scenario.ts';
import { judgeRun, type RunState, type VerdictStatus } from './verdict.ts';

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_VERDICT_WAIT_MS = 5_000;

export interface Verdict {
  scenario: string;
  run: string | null;
  issuer: string;
  status: VerdictStatus;
  reason: string;
  defect_served_at: string | null;
  requests: Array<{
    at: string;
    endpoint: string;
    method: string;
    path: string;
    status: number;
    client_id?: string;
    grant_type?: string;
    error?: string;
  }>;
}

/** A catalog entry with where its standing run is served. */
export interface CatalogEntry extends ScenarioInfo {
  issuer: string;
}

export interface ScenarioRunsOptions {
  /** The main issuer identifier and the path it is mounted under. */
  issuer: string;
  mountPath: string;
  /** The main issuer's fixture (its further issuers are not part of a scenario). */
  fixture: Fixture;
  users: UserDirectory;
  logger: Logger;
  /**
   * The main issuer's keys: a run has signing keys of its own, and shares the decryption keys and
   * the IdP app's cookie keys (every issuer on the port signs its cookies with the Koa app's).
   */
  mainKeys: Pick<IssuerKeys, 'encryption' | 'cookies'>;
  controlToken?: string;
  /** Runs unused this long are dropped (default 30 minutes). */
  idleMs?: number;
}

export class ScenarioRun {
  readonly definition: ScenarioDefinition;
  readonly runId: string | undefined;
  readonly issuer: Issuer;
  readonly record: RequestRecord;
  lastUsed = Date.now();
  #state: { defect?: RunState['defect']; deliveries: RunState['deliveries'][number][]; since: number } = { deliveries: [], since: 0 };

  constructor(
    definition: ScenarioDefinition,
    runId: string | undefined,
    build: (run: ScenarioRun, context: RunContext) => Issuer,
    context: Omit<RunContext, 'served' | 'delivered'>,
  ) {
    this.definition = definition;
    this.runId = runId;
    this.record = new RequestRecord();
    const runContext: RunContext = {
      ...context,
      served: (where, forbidden = [], optional = []) => {
        this.#state.defect ??= { at: Date.now(), where, forbidden, optional };
      },
      delivered: (delivery) => {
        this.#state.deliveries.push({ at: Date.now(), ...delivery });
      },
    };
    this.issuer = build(this, runContext);
  }

  verdict(waitMs = DEFAULT_VERDICT_WAIT_MS): Verdict {
    const requests = this.record.list().filter((request) => request.at >= this.#state.since);
    const judgement = judgeRun(
      this.definition.judge,
      { defect: this.#state.defect, requests, deliveries: this.#state.deliveries },
      Date.now(),
      waitMs,
    );
    return {
      scenario: this.definition.name,
      run: this.runId ?? null,
      issuer: this.issuer.issuer,
      status: judgement.status,
      reason: judgement.reason,
      defect_served_at: this.#state.defect ? new Date(this.#state.defect.at).toISOString() : null,
      requests: requests.map((request) => ({
        at: new Date(request.at).toISOString(),
        endpoint: request.route ?? request.path,
        method: request.method,
        path: request.path,
        status: request.status,
        ...(request.client_id ? { client_id: request.client_id } : {}),
        ...(request.grant_type ? { grant_type: request.grant_type } : {}),
        ...(request.error ? { error: request.error } : {}),
      })),
    };
  }

  reset(): void {
    this.record.clear();
    this.#state = { deliveries: [], since: Date.now() };
  }

  /** Sends a logout token to every client with a `backchannel_logout_uri` (OpenID Connect Back-Channel Logout 1.0 §2.5). */
  async sendLogoutTokens(sub: string, sid: string | undefined): Promise<Array<{ client_id: string; status: number | 'unreachable' }>> {
    const clients = this.issuer.fixture.clients.filter((client) => typeof client.backchannel_logout_uri === 'string');
    return Promise.all(
      clients.map(async (entry) => {
        const delivery = await this.issuer.sessions.sendLogoutToken(entry.client_id, sub, sid);
        return { client_id: entry.client_id, status: delivery && 'status' in delivery ? delivery.status : ('unreachable' as const) };
      }),
    );
  }
}

export class ScenarioRuns implements DynamicIssuers {
  readonly #options: ScenarioRunsOptions;
  readonly #base: string;
  readonly #runs = new Map<string, Promise<ScenarioRun>>();
  /** Created runs by issuer identifier. */
  readonly #ready = new Map<string, ScenarioRun>();
  readonly #store = new MemoryStore();
  readonly #sweeper: NodeJS.Timeout;
  readonly #idleMs: number;
  readonly #keys = new RunKeyReservoir();

  constructor(options: ScenarioRunsOptions) {
    this.#options = options;
    this.#base = `${options.mountPath}${SCENARIOS_PATH}`;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#sweeper = setInterval(() => this.#dropIdle(), Math.min(60_000, this.#idleMs)).unref();
  }

  /** The catalog, each entry with its standing run's issuer. */
  catalog(): CatalogEntry[] {
    return scenarioCatalog().map((info) => ({ ...info, issuer: `${this.#options.issuer}${SCENARIOS_PATH}/${info.name}` }));
  }

  /** The catalog with the verdict of each standing run made so far (none for a scenario not run yet): the main console's table. */
  standing(): Array<CatalogEntry & { verdict?: Verdict }> {
    return this.catalog().map((entry) => {
      const run = this.#ready.get(entry.issuer);
      return run ? { ...entry, verdict: run.verdict() } : entry;
    });
  }

  /** A run's issuer by its identifier, once created (the mock APIs trust its access tokens). */
  issuerOf(iss: string): Issuer | undefined {
    return this.#ready.get(iss)?.issuer;
  }

  /** Live runs (standing and isolated). */
  get size(): number {
    return this.#runs.size;
  }

  /** The run of `name` (`run` for an isolated one), created if needed. */
  run(name: string, run?: string): Promise<ScenarioRun> {
    const definition = SCENARIO_CATALOG.get(name);
    if (!definition) throw unknownScenario(name, this.#options.issuer);
    if (run !== undefined && !RUN_ID.test(run)) throw badRunId(run);
    const key = run === undefined ? name : `${name}/runs/${run}`;
    let created = this.#runs.get(key);
    if (!created) {
      created = this.#create(definition, run, `${this.#options.issuer}${SCENARIOS_PATH}/${key}`, `${this.#base}/${key}`);
      this.#runs.set(key, created);
      created.then(
        (made) => this.#ready.set(made.issuer.issuer, made),
        () => this.#runs.delete(key),
      );
    }
    return created.then((made) => {
      made.lastUsed = Date.now();
      return made;
    });
  }

  find(path: string): DynamicIssuer | undefined {
    if (!path.startsWith(`${this.#base}/`)) return undefined;
    const [name, runs, run] = path.slice(this.#base.length + 1).split('/');
    const isolated = runs === 'runs';
    if (isolated && run === undefined) throw badRunId('');
    if (!SCENARIO_CATALOG.has(name)) throw unknownScenario(name, this.#options.issuer);
    if (isolated && !RUN_ID.test(run)) throw badRunId(run);
    const prefix = `${this.#base}/${name}${isolated ? `/runs/${run}` : ''}`;
    return { prefix, issuer: () => this.run(name, isolated ? run : undefined).then((made) => made.issuer) };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#keys.close();
    this.#runs.clear();
    this.#ready.clear();
    await this.#store.close();
  }

  async #create(definition: ScenarioDefinition, runId: string | undefined, issuer: string, mountPath: string): Promise<ScenarioRun> {
    const keys = await this.#keys.keysFor(this.#options.mainKeys);
    const fixture = definition.adjust ? definition.adjust(this.#options.fixture) : this.#options.fixture;
    const { users, logger, controlToken } = this.#options;
    return new ScenarioRun(
      definition,
      runId,
      (run, context) =>
        createIssuer({
          issuer,
          mountPath,
          fixture,
          keys,
          users,
          logger,
          controlToken,
          store: this.#store.namespace(issuer),
          // The users are the main issuer's (shared directory): a run's reset leaves them alone.
          resetsUsers: false,
          misbehaviour: { ...definition.misbehave(context), record: run.record, control: (router) => runControlRoutes(router, run) },
        }),
      { issuer, keys, fixture },
    );
  }

  #dropIdle(): void {
    const now = Date.now();
    for (const [key, created] of this.#runs) {
      void created.then(
        (run) => {
          if (now - run.lastUsed <= this.#idleMs) return;
          this.#runs.delete(key);
          this.#ready.delete(run.issuer.issuer);
          this.#options.users.stopServing(run.issuer.issuer);
        },
        () => undefined,
      );
    }
  }
}

/** `<run issuer>/_testbed/verdict`, `…/verdict/reset` and `…/logout` (see the README's scenarios section). */
function runControlRoutes(router: Router, run: ScenarioRun): void {
  router.get('/verdict', (ctx) => {
    const wait = ctx.query.wait;
    const seconds = typeof wait === 'string' && /^\d+(\.\d+)?$/.test(wait) ? Number(wait) : undefined;
    if (wait !== undefined && seconds === undefined) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'wait must be a number of seconds, e.g. ?wait=1.5' };
      return;
    }
    ctx.body = run.verdict(seconds === undefined ? undefined : seconds * 1000);
  });
  router.post('/verdict/reset', (ctx) => {
    run.reset();
    ctx.body = run.verdict();
  });
  router.post('/logout', parseBody({ form: FORM, json: JSON_TYPES, limit: 4 * 1024 }), async (ctx) => {
    const body = (ctx.request.body ?? {}) as { sub?: unknown; sid?: unknown };
    if (typeof body.sub !== 'string' || body.sub === '') {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'send {"sub": "<subject>"} (and "sid" for clients that require it)' };
      return;
    }
    ctx.body = { delivered: await run.sendLogoutTokens(body.sub, typeof body.sid === 'string' ? body.sid : undefined) };
  });
}

function unknownScenario(name: string, issuer: string): Error {
  // Most words in common first (id-token-bad-nonce → id-token-invalid-nonce), then the fewest edits.
  const words = new Set(name.split('-'));
  const shared = (known: string) => known.split('-').filter((word) => words.has(word)).length;
  const [nearest] = [...SCENARIO_CATALOG.keys()].sort((a, b) => shared(b) - shared(a) || editDistance(name, a) - editDistance(name, b));
  const hint = nearest && (shared(nearest) >= 2 || editDistance(name, nearest) <= 3) ? `; did you mean '${nearest}'?` : '';
  return Object.assign(new Error('unknown scenario'), {
    status: 404,
    expose: true,
    error: 'not_found',
    error_description: `no scenario '${name.slice(0, 80)}'${hint} see ${issuer}/_testbed/scenarios`,
  });
}

function badRunId(run: string): Error {
  return Object.assign(new Error('bad run id'), {
    status: 400,
    expose: true,
    error: 'invalid_request',
    error_description: `run id '${run.slice(0, 80)}' must be 1 to 64 of A-Z a-z 0-9 _ -`,
  });
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
