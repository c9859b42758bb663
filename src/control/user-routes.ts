/**
 * The issuer's users at run time (under `<issuer>/_testbed`):
 *   GET    /users              → `{ users: [user, …] }`
 *   GET    /users/:username    → the user, or 404
 *   PUT    /users/:username    a fixture user entry (password, sub, claims, roles) → 201 (new) or 200 (replaced)
 *   PATCH  /users/:username    `{ claims?, password?, roles? }`: claims merged, `null` removes one → 200
 *   DELETE /users/:username    → 204; the user's sessions and grants end
 * A user is answered as `{ username, sub, claims, roles }` (never the password). A body's `username`
 * may be left out; given, it must be the one in the path. Validation is the fixture's
 * (src/store/user-directory.ts): 400 naming the field, 409 for a `sub` another user has.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { FixtureError } from '../fixtures/load.ts';
import { answerOAuthError } from '../http/error-answers.ts';
import { type User, UserConflictError, type UserDirectory } from '../store/user-directory.ts';
import { jsonObjectBody } from './json-body.ts';

export function addUserRoutes(router: Router, users: UserDirectory): void {
  const userEntry = jsonObjectBody({ limit: 64 * 1024, shape: 'a fixture user entry { "password", "sub"?, "claims"?, "roles"? }' });
  const userChange = jsonObjectBody({ limit: 64 * 1024, shape: 'the fields to change { "claims"?, "password"?, "roles"? }' });
  const usernameOf = (ctx: Context) => (ctx.params as Record<string, string>).username;
  const unknown = (ctx: Context) => answerOAuthError(ctx, 404, 'not_found', `no user "${usernameOf(ctx)}"`);

  router.get('/users', async (ctx) => {
    ctx.body = { users: (await users.list()).map(view) };
  });

  router.get('/users/:username', async (ctx) => {
    const user = await users.get(usernameOf(ctx));
    if (!user) return unknown(ctx);
    ctx.body = view(user);
    return undefined;
  });

  router.put('/users/:username', userEntry, async (ctx) =>
    answerChange(ctx, async () => {
      const { user, created } = await users.put(usernameOf(ctx), ctx.request.body as never);
      ctx.status = created ? 201 : 200;
      if (created) ctx.set('Location', ctx.href);
      ctx.body = view(user);
    }),
  );

  router.patch('/users/:username', userChange, async (ctx) =>
    answerChange(ctx, async () => {
      const user = await users.patch(usernameOf(ctx), ctx.request.body as never);
      if (!user) return unknown(ctx);
      ctx.body = view(user);
      return undefined;
    }),
  );

  router.delete('/users/:username', async (ctx) => {
    if (!(await users.remove(usernameOf(ctx)))) return unknown(ctx);
    ctx.status = 204;
    return undefined;
  });
}

/** A user as the control endpoints answer it. */
function view(user: User): User {
  return { username: user.username, sub: user.sub, claims: user.claims, roles: user.roles };
}

/** Runs a change, answering its refusals: a bad entry 400 (the message names the field), a taken `sub` 409. */
async function answerChange(ctx: Context, change: () => Promise<void>): Promise<void> {
  try {
    await change();
  } catch (error) {
    if (error instanceof FixtureError) return answerOAuthError(ctx, 400, 'invalid_request', error.message);
    if (error instanceof UserConflictError) return answerOAuthError(ctx, 409, 'conflict', error.message);
    throw error;
  }
}
