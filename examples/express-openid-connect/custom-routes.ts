/**
 * Route customization: the app mounts its own login and callback routes (passing the redirect URI
 * itself) and sends users to its own page after logout.
 */
import express from 'express';
import { auth, requiresAuth } from './library.ts';
import { page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

export const customRoutes: Example = {
  name: 'custom-routes',
  shows: 'own /login and /callback routes (routes.login and routes.callback false), postLogoutRedirect /custom-logout',
  async create(settings) {
    const redirectUri = new URL('/callback', settings.baseURL).href;
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        authRequired: false,
        routes: { login: false, callback: false, postLogoutRedirect: '/custom-logout' },
      }),
    );
    app.get('/', (_req, res) => res.send(page('Welcome!', '<a href="/login">Log in</a>')));
    app.get('/profile', requiresAuth(), (req, res) => res.send(page(`hello ${req.oidc.user!.sub}`, '<a href="/logout">Log out</a>')));
    app.get('/login', (_req, res) => res.oidc.login({ returnTo: '/profile', authorizationParams: { redirect_uri: redirectUri } }));
    app.get('/custom-logout', (_req, res) => res.send(page('Bye!')));
    // The ID token comes back by form_post (the default response_mode), so POST is the route that counts.
    app.get('/callback', (_req, res) => res.oidc.callback({ redirectUri }));
    app.post('/callback', express.urlencoded({ extended: false }), (_req, res) => res.oidc.callback({ redirectUri }));
    return plainApp(app);
  },
};
