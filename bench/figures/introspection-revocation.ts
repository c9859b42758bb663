/**
 * Figure 3: introspection and revocation of opaque tokens, the testbed beside bare oidc-provider
 * and oauth2-mock-server; then, the testbed alone, of JWT access tokens.
 */
import { CC_OPAQUE, CC_PROFILE, introspectionRequest, issueTokens, revocationRequest } from '../lib/requests.ts';
import type { LoadResult } from '../lib/wrk.ts';
import type { FigureContext } from './context.ts';
import { BARE as B, MOCK as M, type Peers, TESTBED as T } from './peers.ts';

/** One measured run of revocations, each of a token issued for it (figures 3 and 7). */
export const revocationRun =
  ({ bench, settings }: FigureContext, port: number, fields: Record<string, string>) =>
  async (): Promise<LoadResult> =>
    bench.loadList(
      port,
      (await issueTokens(port, fields, settings.tokensPerRun)).map((token) => revocationRequest(token)),
    );

export async function introspectionAndRevocation(ctx: FigureContext, { tb, bare, mock }: Peers): Promise<void> {
  const { bench } = ctx;
  const [tOpaque] = await issueTokens(tb.port, CC_OPAQUE, 1);
  const [bOpaque] = await issueTokens(bare.port, CC_OPAQUE, 1);
  const scenario = 'revoke opaque (each token once)';
  await bench.measure(
    3,
    'introspection and revocation',
    [
      bench.fixed('t-intro', 'introspect opaque', T, tb.port, introspectionRequest(tOpaque)),
      bench.fixed('b-intro', 'introspect opaque', B, bare.port, introspectionRequest(bOpaque)),
      bench.fixed('m-intro', 'introspect opaque', M, mock.port, { ...introspectionRequest('any-token'), path: '/introspect' }),
      { key: 't-revoke', scenario, system: T, run: revocationRun(ctx, tb.port, CC_OPAQUE) },
      { key: 'b-revoke', scenario, system: B, run: revocationRun(ctx, bare.port, CC_OPAQUE) },
      bench.fixed('m-revoke', scenario, M, mock.port, { ...revocationRequest('any-token'), path: '/revoke' }),
    ],
    [
      { label: 'introspect opaque vs bare', testbed: 't-intro', peer: 'b-intro', target: 0.9 },
      { label: 'introspect vs oauth2-mock-server', testbed: 't-intro', peer: 'm-intro' },
      { label: 'revoke opaque vs bare', testbed: 't-revoke', peer: 'b-revoke', target: 0.9 },
      { label: 'revoke vs oauth2-mock-server', testbed: 't-revoke', peer: 'm-revoke' },
    ],
    ['oauth2-mock-server keeps no token state: its introspection answers active for anything and its revocation does nothing'],
  );
}

/** What only the testbed does: run after figure 6's memory sample, which it would otherwise skew. */
export async function jwtIntrospectionAndRevocation(ctx: FigureContext, { tb }: Peers): Promise<void> {
  const { bench } = ctx;
  const [tJwt] = await issueTokens(tb.port, CC_PROFILE, 1);
  await bench.measure(
    3,
    'JWT access tokens at introspection and revocation (the testbed only)',
    [
      bench.fixed('t-intro-jwt', 'introspect client-credentials JWT (ES256)', T, tb.port, introspectionRequest(tJwt)),
      {
        key: 't-revoke-jwt',
        scenario: 'revoke client-credentials JWT (each token once)',
        system: T,
        run: revocationRun(ctx, tb.port, CC_PROFILE),
      },
    ],
    [],
    [
      'bare oidc-provider cannot introspect or revoke JWT access tokens (400 unsupported_token_type): no peer',
      'a client-credentials JWT has no stored record: the first introspection or revocation verifies its signature and makes one from its claims; revocation then stores a revocation mark until it expires',
    ],
  );
}
