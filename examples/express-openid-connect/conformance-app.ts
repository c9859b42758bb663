/**
 * The app `conformance.yaml` starts once per scenario (`node conformance-app.ts`): express-openid-connect
 * with the code flow, refresh and back-channel logout (its store: the session store, in Redis),
 * configured by the same environment as the other examples (ISSUER_BASE_URL, CLIENT_ID,
 * CLIENT_SECRET, BASE_URL, SECRET, REDIS_URL). Not one of the twelve documented uses (index.ts):
 * it only gives the runner pages to judge by.
 *
 *   GET /           the UserInfo of the signed-in user (req.oidc.fetchUserInfo()), or a sign-in link
 *   GET /profile    200 with the ID token claims when signed in; otherwise the library redirects to /login
 *   GET /refresh    renews the tokens (accessToken.refresh()) and calls UserInfo with the new one
 *   /login, /callback, /logout, /backchannel-logout: the library's routes
 */
import { once } from 'node:events';
import express from 'express';
import { auth, requiresAuth } from './library.ts';
import { redisSessionStore } from './redis-session-store.ts';
import { authBasics, settingsFrom } from './settings.ts';

const settings = settingsFrom(
  { name: 'conformance', shows: 'the conformance runner’s app', create: async () => ({ app: express(), close: async () => {} }) },
  process.env,
);
// One prefix per port: the parallel apps of a run keep their sessions apart.
const redis = await redisSessionStore({
  ...settings,
  redisPrefix: `${settings.redisPrefix}conformance-${new URL(settings.baseURL).port}:`,
});
const app = express();
app.use(
  auth({
    ...authBasics(settings),
    clientAuthMethod: 'client_secret_basic',
    authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    authRequired: false,
    idpLogout: true,
    session: { store: redis.store },
    backchannelLogout: true,
  }),
);
app.get('/', async (req, res) => {
  if (!req.oidc.isAuthenticated()) return void res.send('<a href="/login">Log in</a>');
  res.json(await req.oidc.fetchUserInfo());
});
app.get('/profile', requiresAuth(), (req, res) => {
  res.json(req.oidc.idTokenClaims);
});
app.get('/refresh', requiresAuth(), async (req, res) => {
  await req.oidc.accessToken!.refresh();
  res.json(await req.oidc.fetchUserInfo());
});

const base = new URL(settings.baseURL);
const server = app.listen(Number(base.port || 80));
await once(server, 'listening');
console.log(`express-openid-connect conformance app at ${settings.baseURL} (issuer ${settings.issuerBaseURL})`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    // Idle keep-alive sockets to the issuer would hold the process a few seconds more.
    void redis.close().finally(() => process.exit(0));
  });
