/**
 * Validate claims from the ID token before logging a user in: `afterCallback` decodes the ID token
 * (jose's decodeJwt; the library has verified it already) and refuses a user who is not a member of
 * the required organization. The default fixture's `admin` is; `bob` is not.
 */
import express from 'express';
import { decodeJwt } from 'jose';
import { showError } from './claims.ts';
import { auth } from './library.ts';
import { escapeHtml, page } from './page.ts';
import { authBasics, type Example, plainApp } from './settings.ts';

/** The `org_id` of the default fixture's admin user. */
export const REQUIRED_ORGANIZATION = 'Required Organization';

class NotInOrganization extends Error {
  readonly status = 403;
}

export const validateClaims: Example = {
  name: 'validate-claims',
  shows: 'afterCallback refuses (403) a user whose ID token lacks the required org_id',
  async create(settings) {
    const app = express();
    app.use(
      auth({
        ...authBasics(settings),
        afterCallback: (_req, _res, session) => {
          const claims = decodeJwt(session.id_token);
          if (claims.org_id !== REQUIRED_ORGANIZATION) throw new NotInOrganization('User is not a part of the Required Organization');
          return session;
        },
      }),
    );
    app.get('/', (req, res) =>
      res.send(page(`hello ${req.oidc.user!.sub}`, `<p>Organization <span id="org">${escapeHtml(REQUIRED_ORGANIZATION)}</span></p>`)),
    );
    app.use(showError);
    return plainApp(app);
  },
};
