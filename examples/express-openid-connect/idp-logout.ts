/**
 * Logout from the identity provider: with `idpLogout: true`, /logout ends the testbed's session too
 * (RP-initiated logout), so the next visit shows the login page instead of signing in silently.
 */
import express from 'express';
import { auth } from './library.ts';
import { page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

export const idpLogout: Example = {
  name: 'idp-logout',
  shows: 'idpLogout: true; /logout ends the session at the identity provider as well',
  async create(settings) {
    const app = express();
    app.use(auth({ ...authBasics(settings), idpLogout: true }));
    app.get('/', (req, res) => res.send(page(`hello ${req.oidc.user!.sub}`, '<a href="/logout">Log out</a>')));
    return plainApp(app);
  },
};
