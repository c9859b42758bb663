/**
 * The console of an issuer, under its `/_testbed` (behind the control guard):
 *   GET /                    the page (src/control/console-page.ts)
 *   GET /console/requests    rows of the requests after `?since=<cursor>`, newest first (HTML; `X-Cursor`: the record's cursor)
 *   GET /console/glance      the issuer-at-a-glance sections (HTML)
 * The page reads each concern through its library call and acts through its control endpoint.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Fixture } from '../../fixtures/schema.ts';
import { authMethodOf } from '../../fixtures/semantics.ts';
import { answerOAuthError } from '../../http/error-answers.ts';
import type { RequestRecord } from '../../http/request-record.ts';
import type { ClientRegistry, ListedClient } from '../../provider/clients.ts';
import type { CibaController } from '../../provider/extensions/ciba.ts';
import type { ResourceCatalog } from '../../provider/resources.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import type { IssuerClock } from '../clock.ts';
import type { Faults } from '../faults.ts';
import type { SigningKeyRotation } from '../key-rotation.ts';
import { BAD_CURSOR, CURSOR, shownRequest } from '../recorded-json.ts';
import type { Sessions } from '../sessions.ts';
import type { Glance, ScenarioRow } from './glance.ts';
import type { RowContext } from './requests.ts';

export type { ScenarioRow } from './glance.ts';

/** Where the console reads from: the issuer's concerns (each optional section shows when its concern is given). */
export interface ConsoleSources {
  issuer: string;
  mountPath: string;
  fixture: Pick<Fixture, 'users' | 'issuer'>;
  requests: RequestRecord;
  clients: Pick<ClientRegistry, 'list'>;
  resources: Pick<ResourceCatalog, 'all'>;
  users?: Pick<UserDirectory, 'list'>;
  keys?: Pick<SigningKeyRotation, 'list'>;
  faults?: Pick<Faults, 'list'>;
  clock?: Pick<IssuerClock, 'get'>;
  sessions?: Pick<Sessions, 'list'>;
  /** The CIBA controller, when the issuer has CIBA on. */
  ciba?: Pick<CibaController, 'pending'>;
}

/** How many requests the page shows when it opens (the stream brings the rest). */
const PAGE_ROWS = 200;

// The page's renderers are loaded on the first console request: a testbed nobody looks at does not pay for them.
const glanceView = () => import('./glance.ts');
const pageView = () => import('./page.ts');
const rowsView = () => import('./requests.ts');

/** An issuer's console: the page and its parts, and the scenario table it shows when it is given one. */
export class IssuerConsole {
  readonly #sources: ConsoleSources;
  readonly #base: string;
  #scenarios?: () => readonly ScenarioRow[];

  constructor(sources: ConsoleSources) {
    this.#sources = sources;
    this.#base = `${sources.mountPath}/_testbed`;
  }

  /** Shows `table` (the testbed's conformance scenarios, with their standing runs' verdicts) on this console. */
  showScenarios(table: () => readonly ScenarioRow[]): void {
    this.#scenarios = table;
  }

  /** The whole page. */
  async page(): Promise<string> {
    const { requests, issuer } = this.#sources;
    const cursor = requests.cursor;
    const shown = requests.list().slice(-PAGE_ROWS).map(shownRequest);
    const [glance, context, { consolePage }, { glanceSections }, { requestRowsNewestFirst }] = await Promise.all([
      this.#glance(),
      this.#rowContext(),
      pageView(),
      glanceView(),
      rowsView(),
    ]);
    const links: Array<readonly [string, string]> = [];
    if (glance.ciba) links.push(['CIBA page', `${this.#base}/ciba`]);
    if (glance.scenarios) links.push(['scenario catalog', `${this.#base}/scenarios`]);
    return consolePage({
      issuer,
      base: this.#base,
      discovery: glance.discovery,
      cursor,
      now: glance.now,
      rows: requestRowsNewestFirst(shown, context),
      clientIds: [...new Set([...glance.clients.map((client) => client.client_id), ...shown.flatMap((row) => row.client_id ?? [])])],
      endpoints: [...new Set(shown.map((row) => row.endpoint))].sort(),
      glance: glanceSections(glance),
      links,
    });
  }

  /** Rows of the requests after `since`, newest first, and the cursor that follows them. */
  async rows(since: number): Promise<{ rows: string; cursor: number }> {
    // Listed with the cursor in one turn of the event loop: what completes while rendering comes next time, once.
    const { requests } = this.#sources;
    const cursor = requests.cursor;
    const listed = requests.list({ since }).map(shownRequest);
    const [context, { requestRowsNewestFirst }] = await Promise.all([this.#rowContext(), rowsView()]);
    return { rows: requestRowsNewestFirst(listed, context), cursor };
  }

  /** The glance sections. */
  async glance(): Promise<string> {
    const [glance, { glanceSections }] = await Promise.all([this.#glance(), glanceView()]);
    return glanceSections(glance);
  }

  async #now(): Promise<number> {
    const reading = await this.#sources.clock?.get();
    return Math.floor((reading?.now.getTime() ?? Date.now()) / 1000);
  }

  async #rowContext(): Promise<RowContext> {
    const [clients, now] = await Promise.all([this.#sources.clients.list(), this.#now()]);
    const byId = new Map<string, ListedClient>(clients.map((client) => [client.client_id, client]));
    const { fixture } = this.#sources;
    return {
      origin: new URL(this.#sources.issuer).origin,
      now,
      redirectUris: (clientId) => (byId.has(clientId) ? (byId.get(clientId)?.redirect_uris ?? []) : undefined),
      authMethod: (clientId) => {
        const client = byId.get(clientId);
        return client ? authMethodOf(client, fixture.issuer) : undefined;
      },
    };
  }

  async #glance(): Promise<Glance> {
    const { issuer, fixture, clients, resources, users, keys, faults, clock, sessions, ciba } = this.#sources;
    const [listedClients, listedUsers, keyList, faultList, reading, sessionList, pending, now] = await Promise.all([
      clients.list(),
      users?.list(),
      keys?.list(),
      faults?.list(),
      clock?.get(),
      sessions?.list(),
      ciba?.pending(),
      this.#now(),
    ]);
    return {
      issuer,
      base: this.#base,
      discovery: `${issuer}/.well-known/openid-configuration`,
      now,
      clients: listedClients,
      fixtureUsers: fixture.users,
      users: listedUsers,
      resources: resources.all,
      keys: keyList,
      faults: faultList,
      clock: reading,
      sessions: sessionList,
      ciba: pending,
      scenarios: this.#scenarios?.(),
    };
  }
}

function html(ctx: Context, body: string): void {
  ctx.type = 'html';
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.body = body;
}

export function addConsole(router: Router, issuerConsole: IssuerConsole): void {
  router.get('/', async (ctx) => {
    const [page, { contentSecurityPolicy }] = await Promise.all([issuerConsole.page(), pageView()]);
    ctx.set('Content-Security-Policy', contentSecurityPolicy(page));
    ctx.set('Referrer-Policy', 'same-origin');
    html(ctx, page);
  });
  router.get('/console/requests', async (ctx) => {
    const { since } = ctx.query;
    if (typeof since !== 'string' || !CURSOR.test(since)) return answerOAuthError(ctx, 400, 'invalid_request', BAD_CURSOR);
    const { rows, cursor } = await issuerConsole.rows(Number(since));
    ctx.set('X-Cursor', String(cursor));
    html(ctx, rows);
    return undefined;
  });
  router.get('/console/glance', async (ctx) => html(ctx, await issuerConsole.glance()));
}
