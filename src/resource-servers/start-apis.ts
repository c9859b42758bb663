/**
 * Starts the mock APIs beside the IdP: each is bound to the fixture resource that names it
 * (`mock_api: profile | directory`), from which it takes its audience, scopes, base path and
 * introspection credentials, so the IdP and the API always agree.
 */
import type Koa from 'koa';
import { apiFaults } from '../control/fault-injection.ts';
import { ROUTES } from '../endpoints.ts';
import type { Fixture, FixtureResource } from '../fixtures/schema.ts';
import { oauthErrorAnswers } from '../http/error-answers.ts';
import { listenHttp } from '../http/http-server.ts';
import type { Issuer } from '../issuers/create-issuer.ts';
import { ASYMMETRIC_ALGORITHMS } from '../jose/vocabulary.ts';
import type { Logger } from '../log.ts';
import { scopeClaims } from '../provider/accounts.ts';
import type { UserDirectory } from '../store/user-directory.ts';
import { apiApp } from './apis/api-app.ts';
import { clientOrigins } from './apis/cors.ts';
import { DIRECTORY_WRITE_SCOPE, directoryRoutes, idmErrorAnswers } from './apis/directory-api.ts';
import { recordIssuerCalls } from './apis/issuer-calls.ts';
import { issuerLiveness } from './apis/liveness.ts';
import { PROFILE_WRITE_SCOPE, profileRoutes } from './apis/profile-api.ts';
import { DEFAULT_DPOP_ALGORITHMS } from './token-guard/dpop.ts';
import { protection } from './token-guard/protect.ts';

export type MockApiKind = 'profile' | 'directory';

export interface MockApiOptions {
  /** Default: on when a fixture resource has `mock_api` set to this API. */
  enabled?: boolean;
  /**
   * Default: the port of the resource indicator when it is a loopback URL (9401 and 9402 in the
   * default fixture), else 9401 (profile) / 9402 (directory); 0 (any free port) when the IdP's
   * port is 0, so `startTestbed({ port: 0 })` never collides.
   */
  port?: number;
  /** Path prefix of the routes. Default: the path of the resource indicator (`/`, `/openidm/`). */
  basePath?: string;
}

export interface MockApisOptions {
  profile?: MockApiOptions;
  directory?: MockApiOptions;
  /** Origins allowed by CORS (`*` for any). Default: the origins of the fixture clients' redirect URIs. */
  corsOrigins?: string[];
  /** Seconds of leeway on access-token `exp`/`nbf`/`iat`. Default 0: the APIs share the IdP's clock. */
  clockTolerance?: number;
  /** Require server-issued DPoP nonces (RFC 9449 §9). Default false. */
  useDpopNonce?: boolean;
  /** DPoP proof algorithms (`algs`). Default: the IdP's, ES256 Ed25519 EdDSA. */
  dpopAlgorithms?: string[];
  /** JWT access-token algorithms. Default: every asymmetric JWS algorithm. */
  accessTokenAlgorithms?: string[];
  /** Derive the DPoP `htu` from X-Forwarded-Proto/Host. Default false. */
  trustProxy?: boolean;
}

/** What the testbed hands the APIs. */
export interface MockApiHost {
  /** The main issuer: its fixture (the resources), identifier, mount path and provider (revocation state). */
  main: Pick<Issuer, 'issuer' | 'mountPath' | 'fixture' | 'jwtAccessTokens' | 'store' | 'requests' | 'faults' | 'keys'>;
  /** Further issuers (`issuers` in the fixture): their tokens for a resource they also serve are accepted too. */
  others?: ReadonlyArray<Pick<Issuer, 'issuer' | 'mountPath' | 'fixture' | 'jwtAccessTokens' | 'store' | 'requests' | 'faults' | 'keys'>>;
  /** Issuers made while running (conformance scenario runs, with the main fixture and keys of their own): their JWTs are accepted too. */
  madeLater?: {
    issuerOf(iss: string): Pick<Issuer, 'issuer' | 'mountPath' | 'jwtAccessTokens' | 'store' | 'requests' | 'faults' | 'keys'> | undefined;
  };
  users: UserDirectory;
  logger: Logger;
  /** Bind address (the IdP's). */
  host: string;
  /** Host name for the public URLs. */
  publicHost: string;
  /** The port the IdP listens on, and the one it was asked for (0 makes 0 the APIs' default too). */
  idpPort: number;
  idpPortRequested: number;
}

export interface MockApis {
  /** Base URL of each running API (with its base path and a trailing slash). */
  readonly urls: { profileApi?: string; directoryApi?: string };
  stop(): Promise<void>;
}

const DEFAULT_PORTS: Record<MockApiKind, number> = { profile: 9401, directory: 9402 };

export async function startMockApis(options: MockApisOptions | false | undefined, host: MockApiHost): Promise<MockApis> {
  const running: Array<{ kind: MockApiKind; url: string; close: () => Promise<void> }> = [];
  const stop = async () => {
    await Promise.all(running.map((api) => api.close()));
  };
  try {
    for (const kind of ['profile', 'directory'] as const) {
      if (options === false) break;
      const resource = resourceFor(kind, host.main.fixture, options?.[kind]?.enabled);
      if (!resource) continue;
      const apiOptions = options?.[kind] ?? {};
      const basePath = normalizeBasePath(apiOptions.basePath ?? new URL(resource.indicator).pathname);
      const app = buildApi(kind, resource, basePath, options || {}, host);
      const port = apiOptions.port ?? (host.idpPortRequested === 0 ? 0 : defaultPort(kind, resource));
      const served = await listenHttp(port, host.host, app.callback());
      running.push({ kind, url: `http://${host.publicHost}:${served.port}${basePath}`, close: served.close });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    urls: {
      profileApi: running.find((api) => api.kind === 'profile')?.url,
      directoryApi: running.find((api) => api.kind === 'directory')?.url,
    },
    stop,
  };
}

function buildApi(kind: MockApiKind, resource: FixtureResource, basePath: string, options: MockApisOptions, host: MockApiHost): Koa {
  const { fixture } = host.main;
  const logger = host.logger.child({ api: resource.name });
  const issuerInternalUrl = internalUrl(host, host.main.mountPath);
  const introspection = resource.introspection_client && {
    endpoint: `${issuerInternalUrl}${ROUTES.introspection}`,
    clientId: resource.introspection_client.client_id,
    clientSecret: resource.introspection_client.client_secret,
  };
  if (resource.token_format === 'opaque' && !introspection) {
    throw new Error(`resources: ${resource.name} issues opaque tokens, so its mock API needs introspection_client credentials`);
  }
  // Every issuer of the testbed that serves this resource, each with its JWKS (their keys rotate apart).
  const trusted = [
    host.main,
    ...(host.others ?? []).filter((other) => other.fixture.resources.some((served) => served.indicator === resource.indicator)),
  ];
  const trustedByIss = new Map(trusted.map((issuer) => [issuer.issuer, issuer]));
  const guard = protection({
    realm: resource.name,
    tokens: {
      issuers: trusted.map((issuer) => issuer.issuer),
      jwksUris: new Map(trusted.map((issuer) => [issuer.issuer, `${internalUrl(host, issuer.mountPath)}${ROUTES.jwks}`])),
      audience: resource.audience ?? resource.indicator,
      algorithms: options.accessTokenAlgorithms ?? [...ASYMMETRIC_ALGORITHMS],
      clockTolerance: options.clockTolerance ?? 0,
      introspection,
      liveness: issuerLiveness((iss) => trustedByIss.get(iss) ?? host.madeLater?.issuerOf(iss)),
      cacheSize: 10_000,
      keyRevision: async (iss) => (trustedByIss.get(iss) ?? host.madeLater?.issuerOf(iss))?.keys.synchronize(),
      ...(host.madeLater ? { issuerMadeLater: (iss: string) => madeLaterJwks(iss, host) } : {}),
    },
    dpop: {
      algorithms: options.dpopAlgorithms ?? [...DEFAULT_DPOP_ALGORITHMS],
      maxAge: 300,
      useNonce: options.useDpopNonce ?? false,
      replayCacheSize: 100_000,
    },
  });
  const prefix = basePath.replace(/\/$/, '');
  const common = {
    logger,
    trustProxy: options.trustProxy ?? false,
    issuerCalls: recordIssuerCalls(`${kind}-api`, (iss) => (trustedByIss.get(iss) ?? host.madeLater?.issuerOf(iss))?.requests),
    // The fault rules of the issuer whose token the call carries, as the record is that issuer's; else the main issuer's.
    faults: apiFaults(`${kind}-api`, (iss) => (trustedByIss.get(iss) ?? host.madeLater?.issuerOf(iss))?.faults, host.main.faults),
  };
  const origins = options.corsOrigins ?? clientOrigins(fixture.clients);
  if (kind === 'profile') {
    return apiApp({
      ...common,
      cors: { origins, methods: ['GET', 'HEAD', 'PATCH', 'OPTIONS'] },
      errors: oauthErrorAnswers(logger, { error: 'not_found', description: 'no such route' }),
      router: profileRoutes({
        prefix,
        scopes: resource.scopes,
        scopeClaims: scopeClaims(fixture.claims),
        writeScope: PROFILE_WRITE_SCOPE,
        users: host.users,
        protection: guard,
      }),
    });
  }
  return apiApp({
    ...common,
    cors: { origins, methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'OPTIONS'] },
    errors: idmErrorAnswers(logger),
    router: directoryRoutes({ prefix, scopes: resource.scopes, writeScope: DIRECTORY_WRITE_SCOPE, users: host.users, protection: guard }),
  });
}

function resourceFor(kind: MockApiKind, fixture: Fixture, enabled: boolean | undefined): FixtureResource | undefined {
  if (enabled === false) return undefined;
  const bound = fixture.resources.filter((resource) => resource.mock_api === kind);
  if (bound.length > 1)
    throw new Error(
      `resources: ${bound.map((resource) => resource.name).join(' and ')} both have mock_api: ${kind}; one API serves one resource`,
    );
  if (bound.length === 0 && enabled === true) throw new Error(`apis.${kind} is enabled but no fixture resource has mock_api: ${kind}`);
  return bound[0];
}

/** A wildcard bind is reached on loopback. */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The port of a loopback indicator (`http://localhost:9401/`), else 9401 / 9402. */
function defaultPort(kind: MockApiKind, resource: FixtureResource): number {
  const url = new URL(resource.indicator);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return loopback && url.port ? Number(url.port) : DEFAULT_PORTS[kind];
}

function normalizeBasePath(path: string): string {
  const trimmed = path.replace(/^\/*/, '/').replace(/\/*$/, '/');
  return trimmed === '//' ? '/' : trimmed;
}

/** An issuer's URL as this process reaches it, whatever its public URL (containers, proxies). */
function internalUrl(host: MockApiHost, mountPath: string): string {
  return `http://${connectHost(host.host)}:${host.idpPort}${mountPath}`;
}

/** Where this process reaches the JWKS of an issuer made later (a scenario run), when it knows it. */
function madeLaterJwks(iss: string, host: MockApiHost): { jwksUri: string } | undefined {
  const issuer = host.madeLater?.issuerOf(iss);
  return issuer && { jwksUri: `${internalUrl(host, issuer.mountPath)}${ROUTES.jwks}` };
}
