/**
 * Calling userinfo: the hybrid response type `code id_token` (by form_post) gets an access token
 * beside the ID token, and `req.oidc.fetchUserInfo()` sends it to the issuer's userinfo endpoint.
 * The default fixture's node-openid-client may use the hybrid response type.
 */
import express from 'express';
import { auth } from './library.ts';
import { json, page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

export const userinfo: Example = {
  name: 'userinfo',
  shows: "response_type 'code id_token' and req.oidc.fetchUserInfo()",
  async create(settings) {
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        idpLogout: true,
        authorizationParams: { response_type: 'code id_token', scope: 'openid profile email' },
      }),
    );
    app.get('/', async (req, res) => {
      const userInfo = await req.oidc.fetchUserInfo();
      res.send(page(`hello ${userInfo.sub}`, json('userinfo', userInfo)));
    });
    return plainApp(app);
  },
};
