/**
 * A bounded, seeded random-input run against every endpoint the testbed serves: each endpoint its
 * discovery document advertises (main issuer and /fapi2), the metadata documents, /device,
 * /healthz, the control routes, and every route of both mock APIs. Each gets FUZZ_REQUESTS (500)
 * malformed requests (bad-requests.ts) over raw sockets, 16 at a time; the routes behind them
 * (resume, interaction, confirm, catch-all) a fifth as many. The client side runs in a worker
 * thread (fuzz-client.ts), so that the testbed's event loop only serves.
 *
 * A run fails on any 5xx (answered, or only logged by the server when the client had gone), on a
 * request not answered within 2 s while requests sent after it are (a hang; a machine too busy to
 * answer anything gets up to 20 s), on a connection reset or closed without an answer
 * (except where closing is the answer: see `judge` in fuzz-client.ts), and on a 4xx of a JSON
 * endpoint, to a method and path it serves, that is not a JSON error. Non-JSON answers to methods
 * or paths an endpoint does not serve (the IdP's plain 404) are reported as a warning.
 *
 * Replay: the seed is printed in every failure, with the request.
 *   FUZZ_SEED=<seed> [FUZZ_ONLY=<target name>] [FUZZ_REQUESTS=<n>] NODE_OPTIONS=--experimental-vm-modules npx jest test/fuzz/bad-input-fuzz.test.ts
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Testbed } from '../../src/index.ts';
import { postForm } from '../support/http.ts';
import { authorize, client, codeRequest, discover } from '../support/openid.ts';
import { CODE_CLIENT_METADATA, registrationRequest } from '../support/registration.ts';
import { DIRECTORY_API, dpopKey, dpopProof, PROFILE_API, serviceToken, userTokens, WEB_APP_REDIRECT } from '../support/resource-servers.ts';
import { fuzzSeed } from '../support/seeded-random.ts';
import { type RecordedTestbed, serverErrors, startRecordedTestbed } from '../support/testbed.ts';
import type { FuzzTarget, Material } from './bad-requests.ts';
import type { FuzzOptions, FuzzReport, PlannedTarget } from './fuzz-client.ts';

const SEED = fuzzSeed(20260427);
const PER_TARGET = Number(process.env.FUZZ_REQUESTS ?? 500);
if (!Number.isInteger(PER_TARGET) || PER_TARGET < 1)
  throw new Error(`FUZZ_REQUESTS must be a positive integer, got "${process.env.FUZZ_REQUESTS}"`);
/** Routes behind the endpoints (resume, interaction, confirm, catch-all) share their code: a fifth as many. */
const PER_SIDE_ROUTE = Math.ceil(PER_TARGET / 5);
const ONLY = process.env.FUZZ_ONLY;
const CONCURRENCY = 16;
const TIMEOUT_MS = 2000;
/** The whole run: about 20 s on two idle cores; the bound is for machines busy with other work. */
const RUN_TIMEOUT_MS = 180_000;
const REPLAY = `FUZZ_SEED=${SEED}${process.env.FUZZ_REQUESTS ? ` FUZZ_REQUESTS=${PER_TARGET}` : ''} NODE_OPTIONS=--experimental-vm-modules npx jest test/fuzz/bad-input-fuzz.test.ts`;

const CLIENT_AUTH = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
const AUTHORIZATION_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'response_mode',
  'prompt',
  'max_age',
  'login_hint',
  'id_token_hint',
  'acr_values',
  'claims',
  'claims_locales',
  'ui_locales',
  'display',
  'request',
  'request_uri',
  'resource',
  'dpop_jkt',
  'authorization_details',
  'registration',
];
const CLIENT_METADATA = [
  'redirect_uris',
  'client_name',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'token_endpoint_auth_signing_alg',
  'jwks',
  'jwks_uri',
  'scope',
  'contacts',
  'logo_uri',
  'client_uri',
  'policy_uri',
  'tos_uri',
  'sector_identifier_uri',
  'subject_type',
  'application_type',
  'id_token_signed_response_alg',
  'id_token_encrypted_response_alg',
  'id_token_encrypted_response_enc',
  'userinfo_signed_response_alg',
  'request_object_signing_alg',
  'request_uris',
  'post_logout_redirect_uris',
  'default_max_age',
  'require_auth_time',
  'initiate_login_uri',
  'backchannel_token_delivery_mode',
  'backchannel_client_notification_endpoint',
  'backchannel_logout_uri',
  'dpop_bound_access_tokens',
  'introspection_signed_response_alg',
  'authorization_signed_response_alg',
  'require_pushed_authorization_requests',
  'software_statement',
  'client_id',
  'client_secret',
];

type Profile = Omit<FuzzTarget, 'name' | 'url'>;

/** How each endpoint a discovery document may advertise is fuzzed. */
const ADVERTISED: Record<string, Profile> = {
  authorization_endpoint: { methods: ['GET', 'POST'], body: 'form', errors: 'page', params: AUTHORIZATION_PARAMS },
  token_endpoint: {
    methods: ['POST'],
    body: 'form',
    errors: 'oauth',
    params: [
      'grant_type',
      'code',
      'redirect_uri',
      'code_verifier',
      'refresh_token',
      'scope',
      'resource',
      'username',
      'password',
      'device_code',
      'auth_req_id',
      'subject_token',
      'subject_token_type',
      'actor_token',
      'actor_token_type',
      'requested_token_type',
      'audience',
      'authorization_details',
      ...CLIENT_AUTH,
    ],
  },
  userinfo_endpoint: { methods: ['GET', 'POST'], body: 'form', errors: 'oauth', params: ['access_token', 'claims', 'scope'] },
  introspection_endpoint: { methods: ['POST'], body: 'form', errors: 'oauth', params: ['token', 'token_type_hint', ...CLIENT_AUTH] },
  revocation_endpoint: { methods: ['POST'], body: 'form', errors: 'oauth', params: ['token', 'token_type_hint', ...CLIENT_AUTH] },
  device_authorization_endpoint: {
    methods: ['POST'],
    body: 'form',
    errors: 'oauth',
    params: ['scope', 'resource', 'claims', 'acr_values', 'max_age', ...CLIENT_AUTH],
  },
  pushed_authorization_request_endpoint: {
    methods: ['POST'],
    body: 'form',
    errors: 'oauth',
    params: [...AUTHORIZATION_PARAMS, ...CLIENT_AUTH],
  },
  backchannel_authentication_endpoint: {
    methods: ['POST'],
    body: 'form',
    errors: 'oauth',
    params: [
      'scope',
      'login_hint',
      'login_hint_token',
      'id_token_hint',
      'binding_message',
      'user_code',
      'requested_expiry',
      'client_notification_token',
      'acr_values',
      'request',
      'resource',
      ...CLIENT_AUTH,
    ],
  },
  registration_endpoint: { methods: ['POST'], body: 'json', errors: 'oauth', params: CLIENT_METADATA },
  end_session_endpoint: {
    methods: ['GET', 'POST'],
    body: 'form',
    errors: 'page',
    params: ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout_hint', 'ui_locales'],
  },
  jwks_uri: { methods: ['GET'], body: 'none', errors: 'oauth', params: [] },
};
/** Members of a discovery document whose value is a URL but not an endpoint. */
const NOT_ENDPOINTS = new Set(['issuer']);

interface Run {
  recorded: RecordedTestbed;
  targets: PlannedTarget[];
  material: Material;
}

/** Ids that exist, for the routes that take one: a pending interaction, a registered client, a pending CIBA request. */
interface LiveIds {
  interaction?: string;
  client?: string;
  cibaRequest?: string;
}

/** The targets of one issuer: what its discovery advertises, then the routes it serves besides. */
async function issuerTargets(label: string, issuer: string, metadataUrl: string, live: LiveIds = {}): Promise<PlannedTarget[]> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  const advertised = Object.entries(discovery).filter(
    ([name, value]) => typeof value === 'string' && /^https?:/.test(value) && !NOT_ENDPOINTS.has(name),
  );
  const unknown = advertised.filter(([name]) => !ADVERTISED[name]).map(([name]) => name);
  if (unknown.length > 0)
    throw new Error(`${label} advertises ${unknown.join(', ')}, which this fuzz run has no profile for: add one to ADVERTISED`);
  const named = (name: string, url: string, profile: Profile, requests = PER_TARGET): PlannedTarget => ({
    name: `${label}${name}`,
    url,
    ...profile,
    requests,
  });
  const withId = (id: string | undefined) => (id ? { ids: [id] } : {});
  const side = (name: string, url: string, profile: Profile) => named(name, url, profile, PER_SIDE_ROUTE);
  const metadata: Profile = { methods: ['GET'], body: 'none', errors: 'oauth', params: [] };
  const page = (methods: string[], params: string[]): Profile => ({ methods, body: 'form', errors: 'page', params });
  const targets = [
    ...advertised.map(([name, url]) => named(name.replace(/_(endpoint|uri)$/, ''), url as string, ADVERTISED[name])),
    named('discovery', `${issuer}/.well-known/openid-configuration`, metadata),
    named('rfc8414 metadata', metadataUrl, metadata),
    named('device verification', `${issuer}/device`, page(['GET', 'POST'], ['user_code', 'xsrf', 'confirm', 'abort'])),
    side('device resume', `${issuer}/device/{id}`, page(['GET'], [])),
    side('authorization resume', `${issuer}/auth/{id}`, page(['GET'], [])),
    side('end session confirm', `${issuer}/session/end/confirm`, page(['POST'], ['xsrf', 'logout'])),
    side('end session success', `${issuer}/session/end/success`, page(['GET'], ['client_id', 'state'])),
    side('interaction', `${issuer}/interaction/{id}`, { ...page(['GET'], []), ...withId(live.interaction) }),
    side('interaction login', `${issuer}/interaction/{id}/login`, {
      ...page(['POST'], ['username', 'password']),
      ...withId(live.interaction),
    }),
    side('interaction consent', `${issuer}/interaction/{id}/consent`, { ...page(['POST'], ['decision']), ...withId(live.interaction) }),
    side('interaction abort', `${issuer}/interaction/{id}/abort`, { ...page(['GET'], []), ...withId(live.interaction) }),
    side('control', `${issuer}/_testbed/{id}`, { methods: ['GET', 'POST'], body: 'form', errors: 'oauth', params: [] }),
  ];
  if (discovery.registration_endpoint) {
    targets.push(
      side('registered client', `${issuer}/reg/{id}`, {
        methods: ['GET', 'PUT', 'DELETE'],
        body: 'json',
        errors: 'oauth',
        params: CLIENT_METADATA,
        ...withId(live.client),
      }),
    );
  }
  if (discovery.backchannel_authentication_endpoint) {
    targets.push(
      named('ciba control', `${issuer}/_testbed/ciba`, { methods: ['GET'], body: 'none', errors: 'oauth', params: [] }),
      named('ciba approve', `${issuer}/_testbed/ciba/{id}/approve`, {
        methods: ['POST'],
        body: 'form',
        errors: 'oauth',
        params: [],
        ...withId(live.cibaRequest),
      }),
      named('ciba deny', `${issuer}/_testbed/ciba/{id}/deny`, {
        methods: ['POST'],
        body: 'form',
        errors: 'oauth',
        params: ['error_description'],
        ...withId(live.cibaRequest),
      }),
    );
  }
  return targets;
}

function apiTargets(profileApi: string, directoryApi: string): PlannedTarget[] {
  const claims = ['name', 'given_name', 'family_name', 'email', 'address', 'phone_number', 'locale', 'sub', 'updated_at', 'access_token'];
  const idm = [
    '_queryFilter',
    '_fields',
    '_action',
    'access_token',
    'userName',
    'givenName',
    'sn',
    'mail',
    'postalAddress',
    'city',
    'country',
    '_id',
    '_rev',
    'operation',
    'field',
    'value',
  ];
  return [
    {
      name: 'profile-api /userinfo',
      url: `${profileApi}userinfo`,
      methods: ['GET', 'OPTIONS'],
      body: 'none',
      errors: 'oauth',
      params: ['access_token'],
      requests: PER_TARGET,
    },
    {
      name: 'profile-api /me',
      url: `${profileApi}me`,
      methods: ['GET', 'PATCH', 'OPTIONS'],
      body: 'json',
      errors: 'oauth',
      params: claims,
      requests: PER_TARGET,
    },
    {
      name: 'profile-api unknown path',
      url: `${profileApi}{id}`,
      methods: ['GET'],
      body: 'none',
      errors: 'oauth',
      params: ['access_token'],
      requests: PER_SIDE_ROUTE,
    },
    {
      name: 'directory-api info/login',
      url: `${directoryApi}info/login`,
      methods: ['GET', 'OPTIONS'],
      body: 'none',
      errors: 'idm',
      params: ['access_token'],
      requests: PER_TARGET,
    },
    {
      name: 'directory-api managed/user',
      url: `${directoryApi}managed/user`,
      methods: ['GET'],
      body: 'none',
      errors: 'idm',
      params: idm,
      requests: PER_TARGET,
    },
    {
      name: 'directory-api managed/user/{id}',
      url: `${directoryApi}managed/user/{id}`,
      methods: ['GET', 'PUT', 'PATCH'],
      body: 'json',
      errors: 'idm',
      params: idm,
      ids: ['alice', 'bob'],
      requests: PER_TARGET,
    },
  ];
}

/**
 * Real tokens, proofs, cookies and ids of live state (an interaction waiting for a login, a
 * registered client, a pending CIBA request, a device code), so that random requests also reach
 * the code behind the first checks.
 */
async function knownMaterial(testbed: Testbed): Promise<{ material: Material; live: LiveIds }> {
  const fixtureClients = [...testbed.fixture.clients, ...testbed.fixture.issuers.flatMap((issuer) => issuer.clients)];
  const [directory, profile, signedIn] = await Promise.all([
    serviceToken(testbed, DIRECTORY_API, 'fr:idm:*'),
    userTokens(testbed, PROFILE_API, 'profile email address profile:write'),
    discover(testbed, 'node-openid-client', 'password').then(async (config) => {
      const auth = await authorize(config, { redirect_uri: 'http://localhost:3000/callback', scope: 'openid profile offline_access' });
      return client.authorizationCodeGrant(config, auth.callbackUrl, {
        pkceCodeVerifier: auth.codeVerifier,
        expectedState: auth.state,
        expectedNonce: auth.nonce,
      });
    }),
  ]);
  const key = await dpopKey();
  const dpopProofs = await Promise.all([
    dpopProof(key, 'POST', testbed.urls.token, '', { claims: { ath: undefined } }),
    dpopProof(key, 'POST', testbed.urls.pushedAuthorizationRequest, '', { claims: { ath: undefined } }),
    dpopProof(key, 'GET', testbed.urls.userinfo, signedIn.access_token),
    dpopProof(key, 'GET', `${testbed.urls.profileApi}me`, profile.tokens.access_token),
    dpopProof(key, 'PATCH', `${testbed.urls.directoryApi}managed/user/alice`, directory),
  ]);
  const discovery = (await (await fetch(testbed.urls.discovery)).json()) as Record<string, unknown>;
  const listed = (name: string) => (Array.isArray(discovery[name]) ? (discovery[name] as string[]) : []);
  const [interaction, registered, ciba, device] = await Promise.all([
    pendingInteraction(testbed),
    registrationRequest(testbed.urls.registration, 'POST', { body: CODE_CLIENT_METADATA }),
    postForm(
      testbed.urls.backchannelAuthentication,
      { scope: 'openid', login_hint: 'alice' },
      { basic: ['ciba-client', 'ciba-client-secret'] },
    ),
    postForm(testbed.urls.deviceAuthorization, { client_id: 'device-client', scope: 'openid' }),
  ]);
  const live: LiveIds = {
    interaction: interaction.uid,
    client: registered.body.client_id as string,
    cibaRequest: ciba.body.auth_req_id as string,
  };
  const material: Material = {
    clients: [
      ...fixtureClients.map((entry) => [entry.client_id, entry.client_secret] as const),
      [live.client!, registered.body.client_secret as string],
      ['nobody', 'secret'],
    ],
    tokens: [
      directory,
      profile.tokens.access_token,
      signedIn.access_token,
      signedIn.refresh_token!,
      signedIn.id_token!,
      profile.tokens.id_token!,
      registered.body.registration_access_token as string,
      device.body.device_code as string,
      live.cibaRequest!,
    ].filter(Boolean),
    cookies: [interaction.cookie],
    values: [
      ...new Set([
        ...fixtureClients.flatMap((entry) => [...(entry.redirect_uris ?? []), ...(entry.post_logout_redirect_uris ?? [])]),
        ...testbed.fixture.resources.map((resource) => resource.indicator),
        ...listed('grant_types_supported'),
        ...listed('scopes_supported'),
        ...listed('response_types_supported'),
        ...listed('response_modes_supported'),
        ...listed('token_endpoint_auth_methods_supported'),
        ...listed('id_token_signing_alg_values_supported'),
        'openid profile',
        'openid offline_access',
        'profile:write',
        'fr:idm:*',
        'alice',
        'bob',
        'alice-password',
        'access_token',
        'refresh_token',
        'S256',
        'login',
        'consent',
        'none',
        'page',
        'true',
        '0',
        'ES256',
        'http://localhost:3000/callback',
        testbed.issuer,
        `${testbed.issuer}/fapi2`,
        device.body.user_code as string,
        live.interaction!,
        'deny',
        'yes',
      ]),
    ],
    dpopProofs,
  };
  return { material, live };
}

/** An authorization request without a login hint, stopped at the login page: its interaction id and cookies. */
async function pendingInteraction(testbed: Testbed): Promise<{ uid: string; cookie: string }> {
  const { parameters } = await codeRequest(WEB_APP_REDIRECT);
  delete parameters.login_hint;
  const url = new URL(testbed.urls.authorization);
  url.search = new URLSearchParams({ ...parameters, client_id: 'web-app', response_type: 'code' }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  const uid = /\/interaction\/([^/?]+)/.exec(response.headers.get('location') ?? '')?.[1];
  if (!uid) throw new Error(`no interaction: ${response.status} ${response.headers.get('location')}`);
  return {
    uid,
    cookie: response.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; '),
  };
}

/** The client side of the fuzz run, in a worker thread. */
function startFuzzWorker(options: FuzzOptions): Worker {
  return new Worker(new URL('./fuzz-worker.ts', import.meta.url), { workerData: options });
}

function reportOf(worker: Worker): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the fuzz worker exited (${code}) without a report`)));
  });
}

describe(`random bad input to every endpoint (FUZZ_SEED=${SEED}, ${PER_TARGET} requests each)`, () => {
  let run: Run | undefined;

  beforeAll(async () => {
    const recorded = await startRecordedTestbed();
    const { testbed } = recorded;
    const fapi2 = testbed.issuers['/fapi2'];
    const { material, live } = await knownMaterial(testbed);
    const all = [
      ...(await issuerTargets('', testbed.issuer, testbed.urls.authorizationServerMetadata, live)),
      ...(await issuerTargets('fapi2 ', fapi2.issuer, fapi2.urls.authorizationServerMetadata)),
      {
        name: 'healthz',
        url: testbed.urls.health,
        methods: ['GET'],
        body: 'none',
        errors: 'oauth',
        params: [],
        requests: PER_TARGET,
      } satisfies PlannedTarget,
      ...apiTargets(testbed.urls.profileApi!, testbed.urls.directoryApi!),
    ];
    const targets = ONLY ? all.filter((target) => target.name === ONLY) : all;
    if (targets.length === 0) throw new Error(`FUZZ_ONLY=${ONLY} names no target; targets: ${all.map((target) => target.name).join(', ')}`);
    run = { recorded, targets, material };
  }, 60_000);

  let worker: Worker | undefined;

  afterAll(async () => {
    await worker?.terminate(); // still running if the test timed out
    await run?.recorded.stop();
  });

  it(
    'answers every request within 2 s, with a 4xx (a JSON error where JSON is spoken) and never a 5xx',
    async () => {
      const { recorded, targets, material } = run!;
      const logged = recorded.requests.length;
      worker = startFuzzWorker({ seed: SEED, targets, material, concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, replay: REPLAY });
      const report = await reportOf(worker);
      const failures = [...report.failures];
      if (report.reports.length > 0) {
        console.warn(
          `FUZZ_SEED=${SEED}: answers that are not JSON errors, to methods or paths the endpoint does not serve:\n${report.reports.map(([problem, count, examples]) => `  ${problem} ×${count}, e.g. ${examples.join(', ')}`).join('\n')}`,
        );
      }
      // A 5xx the client did not see (it had closed its side, or the server closed the connection).
      await settled(recorded);
      const logged5xx = serverErrors(recorded.requests.slice(logged));
      if (logged5xx.length > report.serverErrors) {
        failures.push(
          [
            `the server logged ${logged5xx.length} 5xx answers, the clients saw ${report.serverErrors}: ${JSON.stringify(logged5xx.slice(0, 10))}`,
            `  replay: ${REPLAY}`,
            '  requests the client got no answer to, on those paths:',
            ...report.unanswered
              .filter(({ url }) => logged5xx.some((entry) => entry.path?.startsWith(pathOf(url))))
              .slice(0, 10)
              .map(({ request }) => `    ${request}`),
          ].join('\n'),
        );
      }
      if (failures.length > 0) {
        throw new Error(
          `FUZZ_SEED=${SEED}: ${failures.length} of ${report.sent} requests failed\n\n${failures.slice(0, 25).join('\n\n')}${failures.length > 25 ? `\n\n… and ${failures.length - 25} more` : ''}`,
        );
      }
      // Most requests are answered: a run whose every request was cut off would prove nothing.
      expect(report.answered).toBeGreaterThan(report.sent * 0.8);
      // And the testbed still serves.
      expect((await fetch(recorded.testbed.urls.discovery)).status).toBe(200);
      expect((await fetch(`${recorded.testbed.urls.profileApi}me`)).status).toBe(401);
    },
    RUN_TIMEOUT_MS,
  );
});

/** A target's path, up to its `{id}`. */
function pathOf(url: string): string {
  return new URL(url.replace(/\{id\}.*$/, '')).pathname;
}

/** Waits until the request log has stopped growing (answers to requests whose clients had gone). */
async function settled(recorded: RecordedTestbed): Promise<void> {
  let length = -1;
  while (length !== recorded.requests.length) {
    length = recorded.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
