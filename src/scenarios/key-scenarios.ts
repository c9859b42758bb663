/**
 * Scenarios about keys and where they are found: a JWKS at a path only discovery names, signing
 * keys that rotate after the first login or just before the first signature, and signed UserInfo.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Misbehaviour } from '../issuers/create-issuer.ts';
import { signJwt } from '../jose/tamper.ts';
import { publicJwk } from '../jose/vocabulary.ts';
import { generateJwk } from '../provider/key-pool.ts';
import type { Judge, JudgedRequest, RunContext, ScenarioDefinition } from './scenario.ts';
import { cloneBody, keyForAlg, reissue, rewriteDiscovery, userinfoCompletes } from './tampering.ts';

const tokenAnswers = (requests: readonly JudgedRequest[]) =>
  requests.filter((request) => request.route === 'token' && request.status === 200);

/**
 * The run's RS256 key until `rotated()` says so, then a new one (new kid): from then on the JWKS
 * publishes only the new key and ID tokens are signed with it.
 */
/**
 * The run's RS256 key, then a new one (new kid): from the rotation on, the JWKS publishes only the
 * new key and ID tokens are signed with it. `after-first-login`: the rotation comes with the next
 * authorization request after an ID token was issued (as the suite's signing-key-rotation);
 * `before-first-token`: right before the first ID token is signed.
 */
function rotatingKey(run: RunContext, rotateWhen: 'after-first-login' | 'before-first-token'): Misbehaviour {
  let next: Promise<JWK> | undefined;
  let issued = false;
  let rotated = false;
  const newKey = () => (next ??= generateJwk('RS256', 'sig', 'rotated', { modulusLength: 2048 }));
  const rotate = (where: string) => {
    rotated = true;
    run.served(where);
  };
  return {
    respond: new Map([
      [
        'jwks',
        async (ctx: KoaContextWithOIDC) => {
          if (!rotated || ctx.status !== 200) return;
          ctx.body = { keys: [{ ...publicJwk(await newKey()), use: 'sig' }] };
        },
      ],
      [
        'authorization',
        async () => {
          if (rotateWhen === 'after-first-login' && issued && !rotated)
            rotate('key rotation at the authorization request after the first login');
        },
      ],
    ]),
    reissue: reissue(run, 'idtoken', () => undefined, {
      sign: async ({ header, claims }) => {
        if (rotateWhen === 'before-first-token' && !rotated) rotate('key rotation just before the first ID token');
        issued = true;
        const key = rotated ? await newKey() : keyForAlg(run.keys, 'RS256');
        return signJwt({ ...header, alg: 'RS256', kid: key.kid }, claims, key);
      },
    }),
  };
}

/** Completes at a userinfo call after the JWKS was fetched again following the rotation. */
function completesAfterRefetch(tokensBefore: number): Judge {
  return {
    kind: 'complete',
    completes: `a successful userinfo request after ${tokensBefore > 1 ? 'a second login and ' : ''}a JWKS fetch that followed it`,
    test: (request, earlier) => {
      if (request.route !== 'userinfo' || request.status !== 200) return false;
      const tokens = tokenAnswers(earlier);
      const after = tokens[tokensBefore - 1];
      return after !== undefined && earlier.some((seen) => seen.route === 'jwks' && seen.at >= after.at);
    },
  };
}

export const KEY_SCENARIOS: readonly ScenarioDefinition[] = [
  {
    name: 'discovery-jwks-uri-keys',
    title: 'JWKS at a path only discovery names',
    plans: ['config', 'dynamic'],
    oidf: 'oidcc-client-test-discovery-jwks-uri-keys',
    defect: 'none: discovery `jwks_uri` is a random path (the usual /jwks still answers)',
    expect: 'fetches the keys from the `jwks_uri` discovery names before using the ID token, then calls userinfo',
    openidClient: 'the code flow never fetches the JWKS unless enableNonRepudiationChecks',
    judge: {
      kind: 'complete',
      completes: 'a successful userinfo request after the JWKS was read at the discovered jwks_uri',
      test: (request, earlier) =>
        request.route === 'userinfo' &&
        request.status === 200 &&
        earlier.some((seen) => seen.path.includes('/jwks-') && seen.status === 200),
    },
    misbehave: (run) => {
      const path = `/jwks-${randomBytes(9).toString('base64url')}`;
      return {
        respond: new Map([
          [
            'discovery',
            rewriteDiscovery((metadata) => {
              metadata.jwks_uri = `${run.issuer}${path}`;
            }),
          ],
        ]),
        paths: [
          [
            path,
            async (ctx, next) => {
              run.served('the discovered jwks_uri');
              ctx.path = '/jwks';
              return next();
            },
          ],
        ],
      };
    },
  },
  {
    name: 'signing-key-rotation',
    title: 'Signing key rotated after the first login',
    plans: ['config', 'dynamic'],
    oidf: 'oidcc-client-test-signing-key-rotation',
    defect:
      'none: at the authorization request after the first login the JWKS changes to only a new key (new kid), and the next ID token is signed with it',
    expect: 'signs in twice; on the unknown kid it fetches jwks_uri again, verifies, and calls userinfo',
    openidClient:
      'with enableNonRepudiationChecks and one Configuration it re-fetches a JWKS only once its copy is 60 s old (OAUTH_KEY_SELECTION_FAILED before that)',
    judge: completesAfterRefetch(2),
    misbehave: (run) => rotatingKey(run, 'after-first-login'),
  },
  {
    name: 'signing-key-rotation-just-before-signing',
    title: 'Signing key rotated just before the first signature',
    plans: ['config', 'dynamic'],
    oidf: 'oidcc-client-test-signing-key-rotation-just-before-signing',
    defect: 'none: the JWKS changes to a new key (new kid) right before the first ID token is signed with it',
    expect: 'fetches jwks_uri after the token response (not a copy from before), verifies, and calls userinfo',
    judge: completesAfterRefetch(1),
    misbehave: (run) => rotatingKey(run, 'before-first-token'),
  },
  {
    name: 'userinfo-signed',
    title: 'Signed UserInfo',
    plans: ['dynamic'],
    oidf: 'oidcc-client-test-userinfo-signed',
    defect: 'none: UserInfo answers a JWT (`application/jwt`, RS256, `iss` and `aud`) and discovery lists RS256 for it',
    expect: 'accepts the signed UserInfo response',
    openidClient: 'fetchUserInfo parses it (the signature is verified only with enableNonRepudiationChecks)',
    judge: userinfoCompletes,
    misbehave: (run) => ({
      respond: new Map([
        [
          'discovery',
          rewriteDiscovery((metadata) => {
            metadata.userinfo_signing_alg_values_supported = ['RS256'];
          }),
        ],
        [
          'userinfo',
          async (ctx: KoaContextWithOIDC) => {
            const claims = cloneBody<Record<string, unknown>>(ctx);
            const clientId = ctx.oidc.client?.clientId;
            if (!claims || ctx.status !== 200 || !clientId) return;
            const key = keyForAlg(run.keys, 'RS256');
            ctx.body = await signJwt({ alg: 'RS256', kid: key.kid }, { ...claims, iss: run.issuer, aud: clientId }, key);
            ctx.type = 'application/jwt';
          },
        ],
      ]),
    }),
  },
];
