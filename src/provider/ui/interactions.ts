/**
 * Login and consent (oidc-provider "interactions"). The routes live under /interaction/:uid because
 * oidc-provider scopes its interaction cookie to that path.
 *
 * Headless use: when the authorization request's `login_hint` names a fixture user and auto-login
 * is on for the client, the user is logged in and consent granted with no page at all. The login
 * and consent POSTs answer JSON `{ redirectTo }` when the request asks for `application/json`.
 */

import Router from '@koa/router';
import type { Context } from 'koa';
import type { InteractionResults, Provider } from 'oidc-provider';
import { INTERACTION_PATH } from '../../endpoints.ts';
import { FORM, JSON_TYPES, parseBody } from '../../http/request-body.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import type { ClientPolicy } from '../clients.ts';
import { saveGrant } from '../consent-grant.ts';
import type { ResourceCatalog } from '../resources.ts';
import { consentPage, loginPage } from './pages.ts';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDependencies {
  provider: Provider;
  users: UserDirectory;
  resources: ResourceCatalog;
  policyOf: (clientId: string) => ClientPolicy;
  /** The path the issuer is mounted under ('' at the root). */
  mountPath: string;
}

export function interactionRoutes(deps: InteractionDependencies): Router {
  const { provider, users, policyOf, mountPath } = deps;
  const router = new Router({ prefix: `${INTERACTION_PATH}/:uid` });
  const parseForm = parseBody({ form: FORM, json: JSON_TYPES, limit: 16 * 1024 });
  const wantsJson = (ctx: Context) => ctx.accepts('html', 'json') === 'json';
  const action = (uid: string, step: string) => `${mountPath}${INTERACTION_PATH}/${uid}/${step}`;

  const finish = async (ctx: Context, result: InteractionResults) => {
    if (wantsJson(ctx)) {
      ctx.body = { redirectTo: await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }) };
    } else {
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.respond = false;
    }
  };

  const clientName = async (clientId: string) => {
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  };

  const hintedUser = async (interaction: Interaction) => {
    const clientId = String(interaction.params.client_id);
    return policyOf(clientId).autoLogin ? users.findByHint(interaction.params.login_hint as string | undefined) : undefined;
  };

  const consentImplied = async (interaction: Interaction) => {
    const clientId = String(interaction.params.client_id);
    const hinted = await hintedUser(interaction);
    return policyOf(clientId).firstParty || (hinted !== undefined && hinted.sub === interaction.session?.accountId);
  };

  router.get('/', async (ctx) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    const { uid, prompt, params } = interaction;
    const clientId = String(params.client_id);
    if (prompt.name === 'login') {
      const user = await hintedUser(interaction);
      if (user) return finish(ctx, { login: { accountId: user.sub } });
      ctx.type = 'html';
      ctx.body = loginPage({
        action: action(uid, 'login'),
        abortUrl: action(uid, 'abort'),
        clientId,
        clientName: await clientName(clientId),
        username: typeof params.login_hint === 'string' ? params.login_hint : undefined,
      });
      return undefined;
    }
    if (await consentImplied(interaction)) return finish(ctx, { consent: { grantId: await grantConsent(provider, interaction) } });
    ctx.type = 'html';
    ctx.body = consentPage({
      action: action(uid, 'consent'),
      abortUrl: action(uid, 'abort'),
      clientId,
      clientName: await clientName(clientId),
      username: (await users.findBySub(interaction.session?.accountId ?? ''))?.username ?? String(interaction.session?.accountId),
      ...describeConsent(interaction, deps.resources),
    });
    return undefined;
  });

  router.post('/login', parseForm, async (ctx) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    const { username, password } = (ctx.request.body ?? {}) as Record<string, unknown>;
    const user = typeof username === 'string' && typeof password === 'string' ? await users.authenticate(username, password) : undefined;
    if (!user) {
      ctx.status = 401;
      if (wantsJson(ctx)) {
        ctx.body = { error: 'invalid_credentials', error_description: 'unknown username or wrong password' };
      } else {
        const clientId = String(interaction.params.client_id);
        ctx.type = 'html';
        ctx.body = loginPage({
          action: action(interaction.uid, 'login'),
          abortUrl: action(interaction.uid, 'abort'),
          clientId,
          clientName: await clientName(clientId),
          username: typeof username === 'string' ? username : undefined,
          error: 'Unknown username or wrong password.',
        });
      }
      return undefined;
    }
    return finish(ctx, { login: { accountId: user.sub } });
  });

  router.post('/consent', parseForm, async (ctx) => {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    const { decision } = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (interaction.prompt.name !== 'consent') {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: `this interaction asks for ${interaction.prompt.name}, not consent` };
      return undefined;
    }
    if (decision === 'deny') return finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' });
    return finish(ctx, { consent: { grantId: await grantConsent(provider, interaction) } });
  });

  router.get('/abort', async (ctx) => finish(ctx, { error: 'access_denied', error_description: 'the user cancelled the sign-in' }));

  return router;
}

interface PromptDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** Consent: a Grant holding everything the prompt says is missing. */
async function grantConsent(provider: Provider, interaction: Interaction): Promise<string> {
  const { grantId, session, params } = interaction;
  const details = interaction.prompt.details as PromptDetails;
  return saveGrant(
    provider,
    { accountId: session?.accountId, clientId: String(params.client_id), grantId },
    {
      oidcScopes: details.missingOIDCScope ?? [],
      oidcClaims: details.missingOIDCClaims ?? [],
      resourceScopes: details.missingResourceScopes ?? {},
    },
  );
}

function describeConsent(interaction: Interaction, catalog: ResourceCatalog) {
  const details = interaction.prompt.details as PromptDetails;
  return {
    scopes: details.missingOIDCScope ?? [],
    claims: details.missingOIDCClaims ?? [],
    resources: Object.entries(details.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({
      indicator,
      name: catalog.find(indicator)?.name,
      scopes,
    })),
  };
}
