/**
 * A custom session store: the session lives in Redis (connect-redis), and the cookie holds only
 * its id, so a session too large for a cookie still works.
 */
import express from 'express';
import { auth } from './library.ts';
import { page } from './page.ts';
import { redisSessionStore } from './redis-session-store.ts';
import { authBasics, type Example } from './settings.ts';

export const customSessionStore: Example = {
  name: 'custom-session-store',
  shows: 'session.store: the session in Redis (connect-redis on REDIS_URL), only its id in the cookie',
  async create(settings) {
    const redis = await redisSessionStore(settings);
    const app = express();
    app.use(auth({ ...authBasics(settings), idpLogout: true, session: { store: redis.store } }));
    app.get('/', (req, res) => res.send(page(`hello ${req.oidc.user!.sub}`, '<a href="/logout">Log out</a>')));
    return { app, close: redis.close };
  },
};
