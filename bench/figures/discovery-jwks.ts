/** Figure 4: discovery and JWKS, the testbed beside bare oidc-provider and oauth2-mock-server. */
import type { HttpRequest } from '../lib/wrk.ts';
import type { FigureContext } from './context.ts';
import { BARE as B, MOCK as M, type Peers, TESTBED as T } from './peers.ts';

export async function discoveryAndJwks({ bench }: FigureContext, { tb, bare, mock }: Peers): Promise<void> {
  const get = (path: string): HttpRequest => ({ path });
  await bench.measure(
    4,
    'discovery and JWKS',
    [
      bench.fixed('t-disc', 'discovery', T, tb.port, get('/.well-known/openid-configuration')),
      bench.fixed('b-disc', 'discovery', B, bare.port, get('/.well-known/openid-configuration')),
      bench.fixed('m-disc', 'discovery', M, mock.port, get('/.well-known/openid-configuration')),
      bench.fixed('t-jwks', 'JWKS', T, tb.port, get('/jwks')),
      bench.fixed('b-jwks', 'JWKS', B, bare.port, get('/jwks')),
      bench.fixed('m-jwks', 'JWKS', M, mock.port, get('/jwks')),
    ],
    [
      { label: 'discovery vs bare', testbed: 't-disc', peer: 'b-disc', target: 0.9 },
      { label: 'discovery vs oauth2-mock-server', testbed: 't-disc', peer: 'm-disc' },
      { label: 'JWKS vs bare', testbed: 't-jwks', peer: 'b-jwks', target: 0.9 },
      { label: 'JWKS vs oauth2-mock-server', testbed: 't-jwks', peer: 'm-jwks' },
    ],
  );
}
