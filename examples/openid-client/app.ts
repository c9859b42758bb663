/**
 * A relying party on openid-client 6, written the careful way: the code flow with PKCE, state and
 * nonce; ID-token signatures verified (`enableNonRepudiationChecks`); UserInfo checked against the
 * ID token's `sub`; after a refresh the new ID token must name the same `sub` (OpenID Connect Core
 * §12.2); RP-initiated logout with a `state` it compares on return; back-channel logout tokens
 * validated with jose (Back-Channel Logout 1.0 §2.6) before a session ends.
 *
 * Configured by the environment: ISSUER (the issuer URL), CLIENT_ID, CLIENT_SECRET, PORT (default
 * 3000; it is reached at http://localhost:PORT). Sessions live in memory.
 *
 *   GET  /login                 starts signing in
 *   GET  /callback              the redirect URI
 *   GET  /profile               200 with the user when signed in, 302 to /login otherwise
 *   GET  /refresh               refreshes the tokens and calls UserInfo with the new access token
 *   GET  /logout                RP-initiated logout; the testbed sends the browser back to /logged-out
 *   POST /backchannel-logout    the back-channel logout URI
 */
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';

const ISSUER = required('ISSUER');
const CLIENT_ID = required('CLIENT_ID');
const CLIENT_SECRET = required('CLIENT_SECRET');
const PORT = Number(process.env.PORT ?? 3000);
const BASE = `http://localhost:${PORT}`;
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Session {
  config: client.Configuration;
  sub: string;
  sid?: string;
  claims: Record<string, unknown>;
  idToken: string;
  idTokenAlg: string;
  accessToken: string;
  refreshToken?: string;
  userinfo?: Record<string, unknown>;
}

/** Signed-in sessions by cookie value; pending sign-ins and logouts by their own cookie. */
const sessions = new Map<string, Session>();
const pending = new Map<string, { config: client.Configuration; state: string; nonce: string; codeVerifier: string }>();
const pendingLogouts = new Map<string, string>();

// Discovered on first use (and again after a failure): a discovery the RP refuses stops the sign-in, not the app.
let discovered: Promise<client.ServerMetadata> | undefined;
function serverMetadata(): Promise<client.ServerMetadata> {
  discovered ??= client
    .discovery(new URL(ISSUER), CLIENT_ID, undefined, client.ClientSecretBasic(CLIENT_SECRET), { execute: [client.allowInsecureRequests] })
    .then((made) => made.serverMetadata());
  discovered.catch(() => {
    discovered = undefined;
  });
  return discovered;
}

/**
 * A Configuration per sign-in (kept by its session for refreshes and logout): each holds its own
 * copy of the JWKS, read at its first signature check. One Configuration for the whole app would
 * keep its copy until it is 60 s old even when an ID token names a kid it lacks, and so miss a key
 * rotation (OpenID Connect Core §10.1.1; the signing-key-rotation scenario).
 */
async function config(): Promise<client.Configuration> {
  const made = new client.Configuration(await serverMetadata(), CLIENT_ID, undefined, client.ClientSecretBasic(CLIENT_SECRET));
  client.allowInsecureRequests(made);
  client.enableNonRepudiationChecks(made);
  return made;
}

const app = express();

app.get('/', (_req, res) => {
  res.send('<a href="/login">Sign in</a>');
});

app.get('/login', async (_req, res) => {
  const made = await config();
  const flow = { config: made, state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
  const id = randomBytes(16).toString('hex');
  pending.set(id, flow);
  res.cookie('signin', id, { httpOnly: true, sameSite: 'lax', path: '/' });
  res.redirect(
    client.buildAuthorizationUrl(made, {
      redirect_uri: `${BASE}/callback`,
      scope: 'openid profile',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    }).href,
  );
});

app.get('/callback', async (req, res) => {
  const flow = pending.get(cookie(req, 'signin') ?? '');
  if (!flow) throw new HttpError(400, 'no sign-in in progress');
  pending.delete(cookie(req, 'signin')!);
  const made = flow.config;
  const tokens = await client.authorizationCodeGrant(made, new URL(req.originalUrl, BASE), {
    pkceCodeVerifier: flow.codeVerifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  const userinfo = await client.fetchUserInfo(made, tokens.access_token, claims.sub);
  const id = randomBytes(16).toString('hex');
  sessions.set(id, {
    config: made,
    sub: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    claims,
    idToken: tokens.id_token!,
    idTokenAlg: decodeProtectedHeader(tokens.id_token!).alg!,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    userinfo,
  });
  res.cookie('session', id, { httpOnly: true, sameSite: 'lax', path: '/' });
  res.redirect('/profile');
});

app.get('/profile', (req, res) => {
  const session = sessionOf(req);
  if (!session) return res.redirect('/login');
  res.json({ sub: session.sub, userinfo: session.userinfo });
});

app.get('/refresh', async (req, res) => {
  const session = sessionOf(req);
  if (!session?.refreshToken) throw new HttpError(400, 'no session with a refresh token');
  const made = session.config;
  const tokens = await client.refreshTokenGrant(made, session.refreshToken);
  const claims = tokens.claims();
  // openid-client does not compare it: OpenID Connect Core §12.2, the same sub as the first ID token.
  if (claims && claims.sub !== session.sub)
    throw new HttpError(400, `the refreshed ID token names sub "${claims.sub}", not "${session.sub}"`);
  session.accessToken = tokens.access_token;
  session.refreshToken = tokens.refresh_token ?? session.refreshToken;
  session.userinfo = await client.fetchUserInfo(made, tokens.access_token, session.sub);
  res.json({ refreshed: true, userinfo: session.userinfo });
});

app.get('/logout', async (req, res) => {
  const id = cookie(req, 'session');
  const session = sessionOf(req);
  if (!session || !id) return res.redirect('/');
  sessions.delete(id);
  const state = client.randomState();
  const logoutId = randomBytes(16).toString('hex');
  pendingLogouts.set(logoutId, state);
  res.cookie('logout', logoutId, { httpOnly: true, sameSite: 'lax', path: '/' });
  res.clearCookie('session', { path: '/' });
  res.redirect(
    client.buildEndSessionUrl(session.config, { id_token_hint: session.idToken, post_logout_redirect_uri: `${BASE}/logged-out`, state })
      .href,
  );
});

// OpenID Connect RP-Initiated Logout 1.0 §3: the state must be the one this RP sent.
app.get('/logged-out', (req, res) => {
  const expected = pendingLogouts.get(cookie(req, 'logout') ?? '');
  pendingLogouts.delete(cookie(req, 'logout') ?? '');
  if (!expected || req.query.state !== expected)
    throw new HttpError(400, 'the post-logout redirect does not carry the state of this logout');
  res.send('Signed out');
});

app.post('/backchannel-logout', express.urlencoded({ extended: false }), async (req, res) => {
  res.set('Cache-Control', 'no-store');
  try {
    const { sid, sub } = await validateLogoutToken(String(req.body?.logout_token ?? ''));
    for (const [id, session] of sessions) if ((sid && session.sid === sid) || (!sid && session.sub === sub)) sessions.delete(id);
    res.status(200).end();
  } catch (error) {
    res.status(400).json({ error: 'invalid_request', error_description: (error as Error).message });
  }
});

/** Back-Channel Logout 1.0 §2.6: signed by the issuer in the ID tokens' algorithm, for this client, the logout event, no nonce. */
async function validateLogoutToken(token: string): Promise<{ sid?: string; sub?: string }> {
  const metadata = await serverMetadata();
  const algorithms = [...new Set([...sessions.values()].map((session) => session.idTokenAlg))];
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri!)), {
    issuer: metadata.issuer,
    audience: CLIENT_ID,
    algorithms: algorithms.length > 0 ? algorithms : ['RS256'],
    requiredClaims: ['iat', 'jti'],
  });
  const events = payload.events as Record<string, unknown> | undefined;
  if (!events || typeof events !== 'object' || !(BACKCHANNEL_EVENT in events)) throw new Error('no back-channel logout event');
  if ('nonce' in payload) throw new Error('a logout token must not contain a nonce');
  if (typeof payload.sid !== 'string' && typeof payload.sub !== 'string') throw new Error('neither sid nor sub');
  return { sid: payload.sid as string | undefined, sub: payload.sub };
}

// Express 5 passes rejected promises here: the sign-in refused, with the reason (never a token).
app.use((error: Error, _req: Request, res: Response, _next: () => void) => {
  const status = error instanceof HttpError ? error.status : 400;
  console.error(`refused: ${error.name}: ${error.message}${'code' in error ? ` (${String(error.code)})` : ''}`);
  res.status(status).send(`Sign-in refused: ${error.name}: ${error.message}${'code' in error ? ` (${String(error.code)})` : ''}`);
});

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function sessionOf(req: Request): Session | undefined {
  return sessions.get(cookie(req, 'session') ?? '');
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required (see the comment at the top of app.ts)`);
    process.exit(2);
  }
  return value;
}

app.listen(PORT, () => console.log(`openid-client RP at ${BASE} (issuer ${ISSUER}, client ${CLIENT_ID})`));
