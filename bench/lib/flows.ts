/**
 * The authorization code flow as a browser plus an RP do it, driven from Node (wrk cannot follow
 * redirects with cookies): authorize with login_hint (auto-login, first-party: no page) → code →
 * token with PKCE; and refresh-token chains (each refresh rotates, so each chain is sequential).
 */
import { createHash, randomBytes } from 'node:crypto';
import { form, send, times } from './http.ts';
import type { LoadResult } from './wrk.ts';

export type Dialect = 'testbed' | 'oauth2-mock-server';

export interface FlowTarget {
  port: number;
  dialect: Dialect;
  /** RFC 8707 resource for the access token (testbed and bare peer). */
  resource?: string;
}

const CLIENT = { id: 'web-app', secret: 'web-app-secret', redirect: 'http://localhost:3001/callback' };

export interface Tokens {
  access_token: string;
  refresh_token?: string;
}

class Jar {
  readonly #cookies = new Map<string, string>();
  take(header: string | string[] | undefined): void {
    for (const line of ([] as string[]).concat(header ?? [])) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      if (at > 0) this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
  get header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** One complete flow; throws if any step is not what a conforming server answers. */
export async function codeFlow(target: FlowTarget): Promise<Tokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('base64url');
  const { port } = target;
  const params: Record<string, string> = {
    client_id: CLIENT.id,
    response_type: 'code',
    redirect_uri: CLIENT.redirect,
    scope: 'openid profile offline_access',
    state,
    nonce: state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: 'alice',
  };
  if (target.resource) params.resource = target.resource;
  const jar = new Jar();
  let location = `${target.dialect === 'testbed' ? '/auth' : '/authorize'}?${form(params)}`;
  let code: string | undefined;
  for (let hop = 0; hop < 8 && !code; hop += 1) {
    const response = await send(port, 'GET', location, { cookie: jar.header, accept: 'text/html' });
    jar.take(response.headers['set-cookie']);
    const next = response.headers.location;
    if (response.status < 300 || response.status >= 400 || typeof next !== 'string') {
      throw new Error(
        `authorize hop ${hop}: ${response.status} ${response.body
          .replace(/[\s\S]*<\/style>/, '')
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .replace(/.*<\/style>/s, '')
          .slice(0, 400)}`,
      );
    }
    const url = new URL(next, `http://127.0.0.1:${port}`);
    if (next.startsWith(CLIENT.redirect)) {
      code = url.searchParams.get('code') ?? undefined;
      if (!code) throw new Error(`no code in the redirect: ${next.slice(0, 200)}`);
    } else {
      location = `${url.pathname}${url.search}`;
    }
  }
  if (!code) throw new Error('the flow did not reach the redirect URI');
  const fields: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: CLIENT.redirect,
    code_verifier: verifier,
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
  };
  // With openid in scope and no resource here, the access token would be an opaque UserInfo token.
  if (target.resource) fields.resource = target.resource;
  const token = await send(port, 'POST', '/token', {}, form(fields));
  if (token.status !== 200) throw new Error(`token: ${token.status} ${token.body.slice(0, 200)}`);
  return JSON.parse(token.body) as Tokens;
}

export async function refresh(target: FlowTarget, refreshToken: string): Promise<Tokens> {
  const fields: Record<string, string> = {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT.id,
    client_secret: CLIENT.secret,
  };
  if (target.resource) fields.resource = target.resource;
  const response = await send(target.port, 'POST', '/token', {}, form(fields));
  if (response.status !== 200)
    throw new Error(
      `refresh: ${response.status} ${response.body
        .replace(/[\s\S]*<\/style>/, '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .replace(/.*<\/style>/s, '')
        .slice(0, 400)}`,
    );
  return JSON.parse(response.body) as Tokens;
}

/**
 * `concurrency` loops each running `step` back to back for `seconds` (a bounded number of
 * iterations as well); throughput is completed steps per second.
 */
export async function drive(
  seconds: number,
  concurrency: number,
  maxSteps: number,
  step: (loop: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < end && latencies.length + errors < maxSteps) {
        const t0 = performance.now();
        try {
          await step(loop);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors += 1;
          firstError ??= error;
          if (errors > 50) break;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (errors > 0) console.error(`  ${errors} failed steps; first: ${String((firstError as Error)?.message ?? firstError)}`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { requests: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

/** Code flows back to back, `concurrency` in flight, for `seconds` (`maxFlows` at most): flows per second. */
export function driveCodeFlows(target: FlowTarget, seconds: number, concurrency: number, maxFlows: number): Promise<LoadResult> {
  return drive(seconds, concurrency, maxFlows, async () => {
    await codeFlow(target);
  });
}

/** Refreshes on `concurrency` rotating chains, each started by a code flow (untimed), for `seconds`. */
export async function driveRefreshes(target: FlowTarget, seconds: number, concurrency: number): Promise<LoadResult> {
  const chains = await times(concurrency, concurrency, () => codeFlow(target));
  return drive(seconds, concurrency, 1_000_000, async (loop) => {
    chains[loop] = await refresh(target, chains[loop].refresh_token!);
  });
}

/** User access tokens for one resource: a few code flows, then refresh chains (rotation makes each chain sequential). */
export async function userTokens(port: number, resource: string, count: number): Promise<string[]> {
  const target: FlowTarget = { port, dialect: 'testbed', resource };
  const chains = 32;
  const out: string[] = [];
  await times(chains, chains, async () => {
    let tokens = await codeFlow(target);
    out.push(tokens.access_token);
    while (out.length < count) {
      tokens = await refresh(target, tokens.refresh_token!);
      out.push(tokens.access_token);
    }
  });
  return out.slice(0, count);
}
