/**
 * A deliberately naive relying party (never copy it): the code flow with PKCE (the testbed asks for
 * it), but it ignores `state` and `iss` in the authorization response, decodes the ID token
 * without checking anything, trusts UserInfo whatever its `sub`, accepts any refreshed ID token,
 * and ends sessions for any logout token. The conformance runner must fail it on the negative
 * scenarios it ignores. Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, PORT; or, running, told a new
 * issuer by `POST /configure` with JSON {issuer, client_id, client_secret} (a plan's rp.configure).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const settings = { issuer: process.env.ISSUER ?? '', clientId: process.env.CLIENT_ID ?? '', clientSecret: process.env.CLIENT_SECRET ?? '' };
const PORT = Number(process.env.PORT);
const BASE = `http://localhost:${PORT}`;

interface Session {
  sub?: unknown;
  sid?: unknown;
  idToken: string;
  refreshToken?: string;
}
const sessions = new Map<string, Session>();
const verifiers = new Map<string, string>();

const discovery = async () => (await (await fetch(`${settings.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}');
const basic = () =>
  `Basic ${Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64')}`;

async function tokens(body: URLSearchParams) {
  const response = await fetch((await discovery()).token_endpoint, {
    method: 'POST',
    headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  return (await response.json()) as { access_token: string; id_token?: string; refresh_token?: string };
}

async function userinfo(accessToken: string) {
  await fetch((await discovery()).userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
}

const cookieOf = (req: IncomingMessage, name: string) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
const redirect = (res: ServerResponse, to: string, cookie?: string) => {
  res.writeHead(302, { location: to, ...(cookie ? { 'set-cookie': cookie } : {}) }).end();
};

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', BASE);
  const session = sessions.get(cookieOf(req, 'session') ?? '');
  if (url.pathname === '/') return void res.end('naive RP');
  if (url.pathname === '/configure' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const told = JSON.parse(body);
    Object.assign(settings, { issuer: told.issuer, clientId: told.client_id, clientSecret: told.client_secret });
    sessions.clear();
    return void res.writeHead(204).end();
  }
  if (url.pathname === '/login') {
    const verifier = randomBytes(32).toString('base64url');
    const id = randomBytes(8).toString('hex');
    verifiers.set(id, verifier);
    const authorize = new URL((await discovery()).authorization_endpoint);
    authorize.search = new URLSearchParams({
      client_id: settings.clientId,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: `${BASE}/callback`,
      state: randomBytes(8).toString('hex'), // sent, never compared
      nonce: randomBytes(8).toString('hex'), // sent, never compared
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return redirect(res, authorize.href, `verifier=${id}; Path=/; HttpOnly`);
  }
  if (url.pathname === '/callback') {
    const code = url.searchParams.get('code');
    if (!code) return void res.writeHead(400).end(`error: ${url.searchParams.get('error')}`);
    const answer = await tokens(
      new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: `${BASE}/callback`,
        code_verifier: verifiers.get(cookieOf(req, 'verifier') ?? '') ?? '',
      }),
    );
    if (!answer.id_token) return void res.writeHead(400).end('no ID token');
    const claims = decode(answer.id_token);
    await userinfo(answer.access_token);
    const id = randomBytes(16).toString('hex');
    sessions.set(id, { sub: claims.sub, sid: claims.sid, idToken: answer.id_token, refreshToken: answer.refresh_token });
    return redirect(res, '/profile', `session=${id}; Path=/; HttpOnly`);
  }
  if (url.pathname === '/profile') {
    if (!session) return redirect(res, '/login');
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: session.sub }));
  }
  if (url.pathname === '/refresh' && session?.refreshToken) {
    const answer = await tokens(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken }));
    session.refreshToken = answer.refresh_token ?? session.refreshToken;
    await userinfo(answer.access_token);
    return void res.end('refreshed');
  }
  if (url.pathname === '/logout' && session) {
    sessions.delete(cookieOf(req, 'session')!);
    const end = new URL((await discovery()).end_session_endpoint);
    end.search = new URLSearchParams({
      id_token_hint: session.idToken,
      post_logout_redirect_uri: `${BASE}/logged-out`,
      state: 'x',
    }).toString();
    return redirect(res, end.href);
  }
  if (url.pathname === '/logged-out') return void res.end('signed out'); // whatever the state
  if (url.pathname === '/backchannel-logout' && req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const claims = decode(new URLSearchParams(body).get('logout_token') ?? '');
    for (const [id, each] of sessions) if (each.sid === claims.sid || each.sub === claims.sub) sessions.delete(id);
    return void res.writeHead(200, { 'cache-control': 'no-store' }).end();
  }
  res.writeHead(404).end('not found');
}

createServer((req, res) => {
  handle(req, res).catch((error: Error) => res.writeHead(500).end(error.message));
}).listen(PORT, () => console.log(`naive RP at ${BASE} (issuer ${settings.issuer})`));
