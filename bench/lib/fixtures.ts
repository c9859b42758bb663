/**
 * Bench fixtures, derived at run time from fixtures/default.yaml so they follow it:
 * - main:        the default fixture plus one resource whose JWT access tokens are RS256 (for the
 *                "JWT with RS256" figure); nothing else changes;
 * - opaqueApis:  both mock APIs' resources issue opaque tokens (the APIs introspect them);
 * - rs256Apis:   both mock APIs' resources sign their JWT access tokens with RS256;
 * - shortTtl:    access tokens live 10 s, so the growth figure can watch expired entries go.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH } from '../../src/fixtures/load.ts';

export const RS256_RESOURCE = 'http://localhost:9499/rs256/';
export const RS256_SCOPE = 'bench:rs256';
export const PROFILE_RESOURCE = 'http://localhost:9401/';
export const DIRECTORY_RESOURCE = 'http://localhost:9402/openidm/';
export const SHORT_TTL = 10;

interface FixtureDoc {
  issuer?: { ttl?: Record<string, number> } & Record<string, unknown>;
  resources: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface BenchFixtures {
  main: string;
  opaqueApis: string;
  rs256Apis: string;
  shortTtl: string;
}

/** The default fixture as a document to change. */
const base = () => parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8'), { merge: true }) as FixtureDoc;

/** Writes fixture documents as JSON files into a new scratch directory. */
function fixtureWriter(label: string): (name: string, doc: FixtureDoc) => string {
  const dir = mkdtempSync(join(tmpdir(), `oidc-testbed-${label}-`));
  return (name, doc) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };
}

export function writeBenchFixtures(): BenchFixtures {
  const write = fixtureWriter('bench-fixtures');

  const main = base();
  main.resources.push({ indicator: RS256_RESOURCE, name: 'bench-rs256', scopes: [RS256_SCOPE], token_format: 'jwt', signing_alg: 'RS256' });

  const opaqueApis = base();
  for (const resource of opaqueApis.resources) if (resource.mock_api) resource.token_format = 'opaque';

  const rs256Apis = base();
  for (const resource of rs256Apis.resources) if (resource.mock_api) resource.signing_alg = 'RS256';

  const shortTtl = base();
  shortTtl.issuer = { ...shortTtl.issuer, ttl: { ...shortTtl.issuer?.ttl, access_token: SHORT_TTL } };
  for (const resource of shortTtl.resources) resource.access_token_ttl = SHORT_TTL;

  return {
    main: write('main', main),
    opaqueApis: write('opaque-apis', opaqueApis),
    rs256Apis: write('rs256-apis', rs256Apis),
    shortTtl: write('short-ttl', shortTtl),
  };
}

/** How long what a login or a refresh stores lives in the soak's fixture (see writeSoakFixture). */
export const SOAK_STATE_TTL = 120;

/**
 * The default fixture with what logins and refreshes store (sessions, grants, interactions, refresh
 * tokens, consumed ones included) living SOAK_STATE_TTL seconds instead of 14 days: the soak's
 * stored state then reaches a steady size, so growing memory means a leak, not retained state.
 */
export function writeSoakFixture(): string {
  const doc = base();
  doc.issuer = {
    ...doc.issuer,
    ttl: { ...doc.issuer?.ttl, session: SOAK_STATE_TTL, grant: SOAK_STATE_TTL, interaction: SOAK_STATE_TTL, refresh_token: SOAK_STATE_TTL },
  };
  return fixtureWriter('soak-fixture')('soak', doc);
}
