/**
 * Figure 5: the mock APIs (directory and profile) verifying JWT access tokens, on first use and
 * repeated, beside a Koa + jose floor; then opaque tokens, which the APIs introspect.
 */
import { createHash, generateKeyPairSync, randomUUID, sign as signData } from 'node:crypto';
import { PROFILE_RESOURCE } from '../lib/fixtures.ts';
import { userTokens } from '../lib/flows.ts';
import type { Entry } from '../lib/measure.ts';
import { startFloor } from '../lib/processes.ts';
import { bearerRequest, CC_DIRECTORY, issueTokens } from '../lib/requests.ts';
import type { FigureContext } from './context.ts';
import { type Peers, TESTBED as T } from './peers.ts';

// DPoP (RFC 9449): one ES256 key, one proof per request.
const dpopKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const dpopJwk = dpopKeys.publicKey.export({ format: 'jwk' });
function dpopProof(htm: string, htu: string, accessToken?: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: dpopJwk.kty, crv: dpopJwk.crv, x: dpopJwk.x, y: dpopJwk.y } });
  const claims: Record<string, unknown> = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  const input = `${header}.${b64(claims)}`;
  return `${input}.${signData('sha256', Buffer.from(input), { key: dpopKeys.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A token list for two entries of one run (an API and the floor): made by the first that asks, handed to the second. */
function sharedByTwo(mint: () => Promise<string[]>): () => Promise<string[]> {
  let current: Promise<string[]> | undefined;
  let handedOut = 0;
  return () => {
    if (!current || handedOut === 2) {
      current = mint();
      handedOut = 0;
    }
    handedOut += 1;
    return current;
  };
}

/**
 * The mock APIs get testbed processes of their own, as the floor has: the long-running one
 * carries the state of figures 1–4 (hundreds of MiB of live tokens), which no API request reads
 * but every one of them pays for in garbage collection. They join `peers.all`, stopped with it.
 */
export async function mockApis(ctx: FigureContext, peers: Peers): Promise<void> {
  const { bench, fixtures, settings, testbedProcess } = ctx;
  const { all, memory } = peers;
  const apis = await testbedProcess('testbed (mock APIs)', { fixture: fixtures.main });
  all.push(apis);
  const rs256 = await testbedProcess('testbed (mock APIs, RS256)', { fixture: fixtures.rs256Apis });
  all.push(rs256);
  memory[apis.name] = { idle: apis.rssMiB() };
  // The floor verifies the very JWTs the APIs get: the testbeds' keys, issuer and audiences.
  const floor = await startFloor([apis, rs256]);
  all.push(floor);
  await peers.settled();
  const F = 'Koa + jose floor';
  const [dirToken] = await issueTokens(apis.port, CC_DIRECTORY, 1);
  const [profToken] = await userTokens(apis.port, PROFILE_RESOURCE, 1);
  const [dpopToken] = await issueTokens(apis.port, CC_DIRECTORY, 1, () => ({
    dpop: dpopProof('POST', `http://127.0.0.1:${apis.port}/token`),
  }));
  const dpopUrl = `http://127.0.0.1:${apis.ports.directoryApi}/openidm/info/login`;
  const firstUse = (key: string, scenario: string, system: string, port: number, path: string, tokens: () => Promise<string[]>): Entry => ({
    key,
    scenario,
    system,
    run: async () =>
      bench.loadList(
        port,
        (await tokens()).map((token) => bearerRequest(path, token)),
      ),
  });
  const cc = (port: number) => sharedByTwo(() => issueTokens(port, CC_DIRECTORY, settings.tokensPerRun));
  const dirTokens = cc(apis.port);
  const profTokens = sharedByTwo(() => userTokens(apis.port, PROFILE_RESOURCE, settings.userTokensPerRun));
  const rs256Tokens = cc(rs256.port);
  await bench.measure(
    5,
    'mock APIs (JWT access tokens)',
    [
      firstUse(
        'dir-first',
        'directory GET /openidm/info/login, JWT (ES256) first use',
        T,
        apis.ports.directoryApi,
        '/openidm/info/login',
        dirTokens,
      ),
      firstUse('floor-dir-first', 'floor: verify the same JWTs, each once', F, floor.port, '/verify', dirTokens),
      firstUse('prof-first', 'profile GET /userinfo, user JWT (ES256) first use', T, apis.ports.profileApi, '/userinfo', profTokens),
      firstUse('floor-prof-first', 'floor: verify the same user JWTs, each once', F, floor.port, '/verify', profTokens),
      firstUse(
        'rs-first',
        'directory GET /openidm/info/login, JWT (RS256) first use',
        T,
        rs256.ports.directoryApi,
        '/openidm/info/login',
        rs256Tokens,
      ),
      firstUse('floor-rs-first', 'floor: verify the same RS256 JWTs, each once', F, floor.port, '/verify', rs256Tokens),
      bench.fixed(
        'dir-repeat',
        'directory GET /openidm/info/login, same JWT again',
        T,
        apis.ports.directoryApi,
        bearerRequest('/openidm/info/login', dirToken),
      ),
      bench.fixed('prof-repeat', 'profile GET /userinfo, same JWT again', T, apis.ports.profileApi, bearerRequest('/userinfo', profToken)),
      bench.fixed('floor-plain', 'floor: no verification', F, floor.port, bearerRequest('/plain', dirToken)),
      {
        key: 'dir-dpop',
        scenario: 'directory info/login, DPoP-bound JWT, fresh proof each request',
        system: T,
        run: () =>
          bench.loadList(
            apis.ports.directoryApi,
            Array.from({ length: settings.tokensPerRun }, () => ({
              path: '/openidm/info/login',
              headers: { authorization: `DPoP ${dpopToken}`, dpop: dpopProof('GET', dpopUrl, dpopToken) },
            })),
          ),
      },
    ],
    [
      { label: 'directory first use vs floor (ES256, the default)', testbed: 'dir-first', peer: 'floor-dir-first', target: 0.9 },
      { label: 'profile first use vs floor (ES256 user JWTs)', testbed: 'prof-first', peer: 'floor-prof-first', target: 0.9 },
      { label: 'directory first use vs floor (RS256)', testbed: 'rs-first', peer: 'floor-rs-first', target: 0.9 },
      { label: 'directory repeated vs no-verification floor', testbed: 'dir-repeat', peer: 'floor-plain', target: 0.6 },
      { label: 'profile repeated vs no-verification floor', testbed: 'prof-repeat', peer: 'floor-plain', target: 0.6 },
    ],
    [
      `first use: ${settings.tokensPerRun} client-credentials JWTs (directory) or ${settings.userTokensPerRun} user JWTs minted by refresh (profile) per run, each sent once to the API and once to the floor; every testbed API request also checks revocation in the IdP's store (and a user JWT's grant and session)`,
      "the floor is a Koa route that verifies a JWT with jose against a local JWKS (no revocation check) and answers a small JSON body, given the testbeds' keys so that it verifies the same tokens; the APIs run in testbed processes that serve only this figure (ES256, the default, and one whose API resources sign with RS256), as the floor does",
    ],
  );
  memory[apis.name].afterApis = apis.rssMiB();

  const opaque = await testbedProcess('testbed (opaque API tokens)', { fixture: fixtures.opaqueApis });
  all.push(opaque);
  await peers.settled();
  const [opaqueToken] = await issueTokens(opaque.port, CC_DIRECTORY, 1);
  await bench.measure(
    5,
    'mock APIs, opaque access tokens (introspection)',
    [
      firstUse(
        'op-first',
        'directory info/login, opaque first use (introspection)',
        T,
        opaque.ports.directoryApi,
        '/openidm/info/login',
        () => issueTokens(opaque.port, CC_DIRECTORY, settings.opaqueTokensPerRun),
      ),
      bench.fixed(
        'op-repeat',
        'directory info/login, same opaque token again (cached)',
        T,
        opaque.ports.directoryApi,
        bearerRequest('/openidm/info/login', opaqueToken),
      ),
      bench.fixed('floor-plain-2', 'floor: no verification', F, floor.port, bearerRequest('/plain', opaqueToken)),
    ],
    [{ label: 'opaque repeated vs no-verification floor', testbed: 'op-repeat', peer: 'floor-plain-2' }],
    [
      'a separate testbed whose mock-API resources issue opaque tokens; first use = one RFC 7662 introspection call over HTTP to the IdP (same process)',
    ],
  );
}
