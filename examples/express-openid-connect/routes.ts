/** Require authentication for specific routes: `/` is public, `/admin` needs a signed-in user. */
import express from 'express';
import { auth, requiresAuth } from './library.ts';
import { page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

export const routes: Example = {
  name: 'routes',
  shows: 'authRequired: false, and requiresAuth() on the one route that needs a user',
  async create(settings) {
    const app = express();
    app.use(auth({ ...authBasics(settings), authRequired: false }));
    app.get('/', (_req, res) => res.send(page('Home', '<a href="/admin">Admin Section</a>')));
    app.get('/admin', requiresAuth(), (req, res) => {
      res.send(page(`Hello ${req.oidc.user!.sub}, this is the admin section.`));
    });
    return plainApp(app);
  },
};
