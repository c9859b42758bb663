/**
 * Back-Channel Logout: the identity provider POSTs a logout token to /backchannel-logout when the
 * user's session there ends (whichever app or page ended it); the library records it in the
 * session store (Redis) and the next request of that user's session here is signed out.
 * The default fixture's web-app client (http://localhost:3001) registers this URI.
 */
import express from 'express';
import { auth } from './library.ts';
import { escapeHtml, page } from './page.ts';
import { redisSessionStore } from './redis-session-store.ts';
import { authBasics, type Example } from './settings.ts';

export const backchannelLogout: Example = {
  name: 'backchannel-logout',
  shows: 'backchannelLogout: true with the session in Redis; a logout at the identity provider ends the app session',
  defaults: { clientID: 'web-app', clientSecret: 'web-app-secret', baseURL: 'http://localhost:3001' },
  async create(settings) {
    const redis = await redisSessionStore(settings);
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        // web-app authenticates at the token endpoint with client_secret_post, and gets only `code`.
        clientAuthMethod: 'client_secret_post',
        authorizationParams: { response_type: 'code', scope: 'openid profile email' },
        authRequired: false,
        idpLogout: true,
        session: { store: redis.store },
        backchannelLogout: true,
      }),
    );
    app.get('/', (req, res) => {
      if (req.oidc.isAuthenticated())
        res.send(
          page(`hello ${req.oidc.user!.sub}`, `<p>Session ${escapeHtml(req.oidc.idTokenClaims!.sid)}. <a href="/logout">Log out</a></p>`),
        );
      else res.send(page('Signed out', '<a href="/login">Log in</a>'));
    });
    return { app, close: redis.close };
  },
};
