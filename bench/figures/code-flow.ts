/** Figure 2: the authorization code flow with headless login, and rotating refresh, driven from Node. */
import { PROFILE_RESOURCE } from '../lib/fixtures.ts';
import { driveCodeFlows, driveRefreshes, type FlowTarget } from '../lib/flows.ts';
import { type Entry, fmt, type Group, type TargetCheck } from '../lib/measure.ts';
import type { LoadResult } from '../lib/wrk.ts';
import type { FigureContext } from './context.ts';
import { BARE as B, MOCK as M, type Peers, TESTBED as T } from './peers.ts';

const FLOWS_PER_SECOND_TARGET = 200;

/** One measured run of code flows (figures 2 and 7). */
export const codeFlowRun =
  ({ settings }: FigureContext, target: FlowTarget) =>
  (): Promise<LoadResult> =>
    driveCodeFlows(target, settings.seconds, settings.connections, 100_000);

/** One measured run of refreshes on rotating chains (figures 2 and 7). */
export const refreshRun =
  ({ settings }: FigureContext, target: FlowTarget) =>
  (): Promise<LoadResult> =>
    driveRefreshes(target, settings.seconds, settings.connections);

export async function codeFlow(ctx: FigureContext, { tb, bare, mock }: Peers): Promise<void> {
  const { bench, settings } = ctx;
  const flows = (key: string, system: string, target: FlowTarget): Entry => ({
    key,
    scenario: 'code flow (authorize → code → token)',
    system,
    unit: 'flows/s',
    run: codeFlowRun(ctx, target),
    warm: () => driveCodeFlows(target, 1, settings.connections, 1000),
  });
  const refreshes = (key: string, system: string, target: FlowTarget): Entry => ({
    key,
    scenario: 'refresh (rotating)',
    system,
    run: refreshRun(ctx, target),
  });
  const tbFlow: FlowTarget = { port: tb.port, dialect: 'testbed', resource: PROFILE_RESOURCE };
  const bareFlow: FlowTarget = { port: bare.port, dialect: 'testbed', resource: PROFILE_RESOURCE };
  const mockFlow: FlowTarget = { port: mock.port, dialect: 'oauth2-mock-server' };
  await bench.measure(
    2,
    'authorization code flow with headless login, and refresh',
    [
      flows('t-flow', T, tbFlow),
      flows('b-flow', B, bareFlow),
      flows('m-flow', M, mockFlow),
      refreshes('t-refresh', T, tbFlow),
      refreshes('b-refresh', B, bareFlow),
      refreshes('m-refresh', M, mockFlow),
    ],
    [
      { label: 'code flow vs bare', testbed: 't-flow', peer: 'b-flow', target: 0.9 },
      { label: 'code flow vs oauth2-mock-server', testbed: 't-flow', peer: 'm-flow' },
      { label: 'refresh vs bare', testbed: 't-refresh', peer: 'b-refresh', target: 0.9 },
      { label: 'refresh vs oauth2-mock-server', testbed: 't-refresh', peer: 'm-refresh' },
    ],
    [
      `client web-app (first party, client_secret_post, PKCE S256), login_hint=alice, scope openid profile offline_access, resource ${PROFILE_RESOURCE}: ID token RS256, access token JWT ES256, refresh token; ${settings.connections} flows in flight, driven from Node on the load core`,
      "the bare peer runs the testbed's interaction routes (oidc-provider has no headless login of its own); oauth2-mock-server redirects with a code at once (no session, no login)",
    ],
  );
}

export function codeFlowTargets(groups: Group[]): TargetCheck[] {
  const flow = groups.flatMap((g) => g.entries).find((e) => e.key === 't-flow');
  return flow
    ? [
        {
          target: `2. headless code flow ≥ ${FLOWS_PER_SECOND_TARGET} flows/s`,
          value: `${fmt(flow.perSecond.median)} flows/s`,
          met: flow.perSecond.median >= FLOWS_PER_SECOND_TARGET,
        },
      ]
    : [];
}
