/**
 * An access token for an API: the login asks for the API by `audience` (response_type `code`, which
 * needs the client secret), and `/` calls the API with `req.oidc.accessToken`. By default the API
 * is the testbed's profile API, whose GET /userinfo answers the token's subject and claims.
 */
import express from 'express';
import { auth } from './library.ts';
import { escapeHtml, json, page } from './page.ts';
import { apiUrl, authBasics, type Example, plainApp } from './settings.ts';

export const accessAnApi: Example = {
  name: 'access-an-api',
  shows: 'response_type code with an audience; the access token calls the profile API',
  async create(settings) {
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        authorizationParams: { response_type: 'code', audience: settings.audience, scope: 'openid profile email' },
      }),
    );
    app.get('/', async (req, res) => {
      const { token_type, access_token } = req.oidc.accessToken!;
      const answer = await fetch(new URL('userinfo', apiUrl(settings, settings.audience)), {
        headers: { authorization: `${token_type} ${access_token}` },
      });
      res.send(
        page(
          'The API answered',
          `<p>GET userinfo: <span id="status">${answer.status}</span></p>${json('api-answer', await answer.json())}` +
            `<p>for the access token of ${escapeHtml(req.oidc.user!.sub)}</p>`,
        ),
      );
    });
    return plainApp(app);
  },
};
