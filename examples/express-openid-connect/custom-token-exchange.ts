/**
 * Custom token exchange (RFC 8693): the login gets a token for one API (the profile API), and
 * /directory exchanges it with `req.oidc.customTokenExchange()` for a token the directory API
 * accepts, then calls that API. The exchanged token is not stored in the session.
 */
import express from 'express';
import { auth, requiresAuth } from './library.ts';
import { json, page } from './page.ts';
import { apiUrl, authBasics, type Example, plainApp } from './settings.ts';

/** The default fixture's directory API (IDM-like), its audience and scope. */
export const DIRECTORY_AUDIENCE = 'http://localhost:9402/openidm/';

export const customTokenExchange: Example = {
  name: 'custom-token-exchange',
  shows: 'req.oidc.customTokenExchange() swaps the profile-API token for a directory-API token',
  async create(settings) {
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        authorizationParams: { response_type: 'code', audience: settings.audience, scope: 'openid profile offline_access' },
      }),
    );
    app.get('/directory', requiresAuth(), async (req, res, next) => {
      try {
        // The subject token is the session's access token: renew it first if it has expired.
        if (req.oidc.accessToken!.isExpired()) await req.oidc.accessToken!.refresh();
        const exchanged = await req.oidc.customTokenExchange!({ audience: DIRECTORY_AUDIENCE, scope: 'fr:idm:*' });
        const answer = await fetch(new URL('info/login', apiUrl(settings, DIRECTORY_AUDIENCE)), {
          headers: { authorization: `Bearer ${exchanged.access_token}` },
        });
        res.send(
          page(
            'The directory API answered',
            `<p>GET info/login: <span id="status">${answer.status}</span></p>${json('api-answer', await answer.json())}`,
          ),
        );
      } catch (error) {
        // The authorization server's refusals carry error and error_description.
        next(error);
      }
    });
    return plainApp(app);
  },
};
