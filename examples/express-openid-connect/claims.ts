/**
 * Protect a route based on specific claims of the ID token: claimEquals, claimIncludes and
 * claimCheck. The default fixture's `admin` (isAdmin, roles admin and payroll) and `sales` (roles
 * sales and manager) carry these claims; `bob` carries none of them.
 */
import express, { type ErrorRequestHandler } from 'express';
import { auth, claimCheck, claimEquals, claimIncludes } from './library.ts';
import { escapeHtml, page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

/** The library's errors carry the HTTP status (401 from the claim checks with errorOnRequiredAuth). */
export const showError: ErrorRequestHandler = (error: Error & { status?: number }, _req, res, _next) => {
  res.status(error.status ?? 500).send(page(`Error ${error.status ?? 500}`, `<p id="error">${escapeHtml(error.message)}</p>`));
};

export const claims: Example = {
  name: 'claims',
  shows: 'claimEquals, claimIncludes and claimCheck on the ID token claims; 401 for users without them',
  async create(settings) {
    const app = express();
    // errorOnRequiredAuth: a signed-in user without the claim gets a 401 instead of another login.
    app.use(auth({ ...authBasics(settings), authRequired: false, errorOnRequiredAuth: true }));
    app.get('/', (req, res) => {
      res.send(
        page(
          req.oidc.isAuthenticated() ? `Hello ${req.oidc.user!.sub}` : 'Hello',
          '<ul><li><a href="/login">Log in</a></li><li><a href="/admin">Admin</a></li><li><a href="/sales-managers">Sales managers</a></li><li><a href="/payroll">Payroll</a></li></ul>',
        ),
      );
    });
    app.get('/admin', claimEquals('isAdmin', true), (req, res) => {
      res.send(page(`Hello ${req.oidc.user!.sub}, this is the admin section.`));
    });
    app.get('/sales-managers', claimIncludes('roles', 'sales', 'manager'), (req, res) => {
      res.send(page(`Hello ${req.oidc.user!.sub}, this is the sales managers section.`));
    });
    app.get(
      '/payroll',
      claimCheck((_req, { isAdmin, roles }) => isAdmin === true || (Array.isArray(roles) && roles.includes('payroll'))),
      (req, res) => {
        res.send(page(`Hello ${req.oidc.user!.sub}, this is the payroll section.`));
      },
    );
    app.use(showError);
    return plainApp(app);
  },
};
