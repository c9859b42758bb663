/**
 * Refresh tokens: `offline_access` at login, and before each API call an expired access token is
 * renewed with `refresh()` (which also stores the new tokens in the session). The default fixture's
 * node-openid-client gets 4-second access tokens, so a reload after 4 s shows a renewal.
 */
import express from 'express';
import { auth } from './library.ts';
import { json, page } from './page.ts';
import { apiUrl, authBasics, type Example, plainApp } from './settings.ts';

export const refreshTokens: Example = {
  name: 'refresh-tokens',
  shows: 'offline_access; an expired access token is renewed with accessToken.refresh() before the API call',
  async create(settings) {
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        authorizationParams: { response_type: 'code', audience: settings.audience, scope: 'openid profile email offline_access' },
      }),
    );
    app.get('/', async (req, res) => {
      let accessToken = req.oidc.accessToken!;
      const renewed = accessToken.isExpired();
      if (renewed) accessToken = await accessToken.refresh();
      const answer = await fetch(new URL('userinfo', apiUrl(settings, settings.audience)), {
        headers: { authorization: `${accessToken.token_type} ${accessToken.access_token}` },
      });
      res.send(
        page(
          'The API answered',
          `<p>Access token ${renewed ? '<strong id="renewed">renewed</strong>' : 'still valid'}, ` +
            `expires in <span id="expires-in">${accessToken.expires_in}</span> s.</p>` +
            `<p>GET userinfo: <span id="status">${answer.status}</span></p>${json('api-answer', await answer.json())}`,
        ),
      );
    });
    return plainApp(app);
  },
};
