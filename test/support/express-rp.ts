/**
 * An express app with express-openid-connect's `auth()` in front and a `/profile` page showing
 * `req.oidc.user`, on a loopback port 0 (useAppServer); the `auth()` middleware is handed in once
 * the issuer it points at is known.
 */
import express from 'express';
import { useAppServer } from './app-server.ts';

export interface ExpressRp {
  origin(): string;
  /** The authentication middleware from now on (express-openid-connect's `auth({…})`). */
  authenticate(handler: express.RequestHandler): void;
}

export function useExpressRp(): ExpressRp {
  const server = useAppServer();
  let authentication: express.RequestHandler = (_request, response) => response.status(503).end();
  const rp = express();
  rp.use((request, response, next) => authentication(request, response, next));
  rp.get('/profile', (request, response) => {
    response.type('html').send(`<!DOCTYPE html><title>Profile</title><pre id="user">${JSON.stringify(request.oidc.user)}</pre>`);
  });
  server.serve(rp);
  return {
    origin: server.origin,
    authenticate: (handler) => {
      authentication = handler;
    },
  };
}
