/** Basic setup: every route requires a signed-in user (implicit `id_token` with `form_post`, the library's default). */
import express from 'express';
import { auth } from './library.ts';
import { escapeHtml, page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

export const basic: Example = {
  name: 'basic',
  shows: 'every route requires authentication; the ID token comes back by form_post',
  async create(settings) {
    const app = express();
    app.use(auth(authBasics(settings)));
    app.get('/', (req, res) => {
      res.send(
        page(`hello ${req.oidc.user!.sub}`, `<p>Signed in as ${escapeHtml(req.oidc.user!.name)}. <a href="/logout">Log out</a></p>`),
      );
    });
    return plainApp(app);
  },
};
