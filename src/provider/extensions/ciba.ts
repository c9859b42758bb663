/**
 * OpenID Connect Client-Initiated Backchannel Authentication 1.0 (CIBA), poll and ping modes.
 *
 * oidc-provider runs the protocol (the backchannel authentication endpoint, the CIBA grant, the
 * ping); this module decides what the engine leaves to a deployment: `login_hint` names a fixture
 * user (username or sub), and instead of an authentication device the request waits, listed in
 * the issuer's store (so every replica sees it), until a test or a person decides through the
 * controller: `issuer.ciba` in the library, or the control endpoints under `/_testbed/ciba`.
 */
import { type Configuration, errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import type { IssuerSettings } from '../../fixtures/schema.ts';
import type { Logger } from '../../log.ts';
import type { Store } from '../../store/store.ts';
import type { UserDirectory } from '../../store/user-directory.ts';
import { type GrantContents, saveGrant } from '../consent-grant.ts';

/** The field set of the issuer's store that lists pending requests, one field per auth_req_id. */
const PENDING = 'ciba-pending';

/** CIBA §7.1: a binding message is short plain text shown on both devices. */
const BINDING_MESSAGE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,64}$/u;

/** Claims that are never consented to (oidc-provider's op_claims_missing check skips them too). */
const IMPLICIT_CLAIMS = new Set(['sub', 'sid', 'auth_time', 'acr', 'amr', 'iss']);

/** A backchannel authentication request waiting for the user's decision. */
export interface PendingCibaRequest {
  authReqId: string;
  clientId: string;
  clientName?: string;
  /** The user `login_hint` (or `id_token_hint`) named. */
  sub: string;
  username?: string;
  /** The scope the client asked for. */
  scope: string;
  /** Resource indicators (RFC 8707) the client asked for. */
  resources: string[];
  /** CIBA §7.1 `binding_message`, to show to the user. */
  bindingMessage?: string;
  deliveryMode: 'poll' | 'ping';
  /** Epoch seconds. */
  requestedAt: number;
  /** Epoch seconds; the request is no longer listed afterwards. */
  expiresAt: number;
}

/** Optional details of an approval, as the user's authentication would have produced them. */
export interface CibaApproval {
  acr?: string;
  amr?: string[];
}

export interface CibaDecision {
  status: 'approved' | 'denied';
  /** Ping clients only: whether the notification reached `backchannel_client_notification_endpoint`. */
  notified?: boolean;
}

/**
 * Decides CIBA requests in place of the user's authentication device. Lists are empty and every
 * id unknown on an issuer with CIBA off.
 */
export interface CibaController {
  /** Requests waiting for a decision, oldest first. */
  pending(): Promise<PendingCibaRequest[]>;
  /** Grants what the request asked for; the client's next poll (or the ping) gets tokens. */
  approve(authReqId: string, approval?: CibaApproval): Promise<CibaDecision>;
  /** The client's next poll (or the ping) gets `access_denied`. */
  deny(authReqId: string, description?: string): Promise<CibaDecision>;
}

/** The id names no pending request: unknown, expired, or already decided. */
export class CibaRequestNotFoundError extends Error {
  constructor(authReqId: string) {
    super(`no pending CIBA request ${shortId(authReqId)}: unknown, expired, or already approved or denied`);
    this.name = 'CibaRequestNotFoundError';
  }
}

/** What the store keeps per pending request: the listing, and the consent an approval grants. */
interface PendingRecord extends PendingCibaRequest {
  consent: GrantContents;
}

export interface CibaFeatureInputs {
  users: UserDirectory;
  store: Store;
}

/** oidc-provider's `features.ciba` for the fixture's `issuer.features.ciba`. */
export function cibaFeature(
  settings: IssuerSettings['features']['ciba'],
  inputs: CibaFeatureInputs,
): NonNullable<Configuration['features']>['ciba'] {
  if (!settings.enabled) return { enabled: false };
  const { users, store } = inputs;
  return {
    enabled: true,
    deliveryModes: [...settings.delivery_modes],
    processLoginHint: async (_ctx, loginHint) => (await users.findByHint(loginHint))?.sub, // none: CIBA §13 unknown_user_id
    processLoginHintToken: async () => {
      throw new errors.InvalidRequest(
        'login_hint_token is not supported by this testbed: send login_hint (a username or sub) or id_token_hint',
      );
    },
    validateBindingMessage: async (_ctx, bindingMessage) => {
      if (bindingMessage !== undefined && !BINDING_MESSAGE.test(bindingMessage)) {
        throw new errors.InvalidBindingMessage('binding_message must be 1 to 64 characters of plain text (no control characters)');
      }
    },
    validateRequestContext: async () => {},
    verifyUserCode: async (_ctx, _account, userCode) => {
      if (userCode !== undefined) {
        throw new errors.InvalidUserCode(
          'user_code is not supported by this testbed (backchannel_user_code_parameter_supported is false): leave it out',
        );
      }
    },
    triggerAuthenticationDevice: async (ctx, request, account, client) => {
      const now = epoch();
      const record: PendingRecord = {
        authReqId: request.jti,
        clientId: client.clientId,
        clientName: client.clientName,
        sub: account.accountId,
        username: (await users.findBySub(account.accountId))?.username,
        scope: request.scope ?? '',
        resources: [request.resource ?? []].flat(),
        bindingMessage: typeof request.params?.binding_message === 'string' ? request.params.binding_message : undefined,
        deliveryMode: client.backchannelTokenDeliveryMode ?? 'poll',
        requestedAt: now,
        expiresAt: request.exp ?? now + request.expiration,
        consent: requestedConsent(ctx),
      };
      await store.writeFields(PENDING, { [record.authReqId]: JSON.stringify(record) });
    },
  } as NonNullable<Configuration['features']>['ciba'];
}

/**
 * What approving the request grants: the OIDC scopes and claims it asked for, and per resource
 * server the requested scopes that server has; the same rules as oidc-provider's consent checks
 * (op_scopes_missing, op_claims_missing, rs_scopes_missing).
 */
function requestedConsent(ctx: KoaContextWithOIDC): GrantContents {
  const { oidc } = ctx;
  const resourceScopes: Record<string, string[]> = {};
  for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
    resourceScopes[indicator] = [...oidc.requestParamScopes].filter((scope) => resourceServer.scopes.has(scope));
  }
  return {
    oidcScopes: [...oidc.requestParamOIDCScopes],
    oidcClaims: [...oidc.requestParamClaims].filter((claim) => !IMPLICIT_CLAIMS.has(claim)),
    resourceScopes,
  };
}

/**
 * Discovery (CIBA §4): oidc-provider advertises `backchannel_user_code_parameter_supported: true`;
 * this testbed has no user codes.
 */
export function advertiseNoCibaUserCode(discovery: Record<string, unknown>): void {
  Object.assign(discovery, { backchannel_user_code_parameter_supported: false });
}

export interface CibaControllerInputs {
  store: Store;
  logger: Logger;
}

export function cibaController(provider: Provider, inputs: CibaControllerInputs): CibaController {
  const { store, logger } = inputs;

  /** Every record still live; expired ones are removed from the store on the way. */
  const live = async (): Promise<Map<string, PendingRecord>> => {
    const now = epoch();
    const records = new Map<string, PendingRecord>();
    const expired: string[] = [];
    for (const [id, json] of Object.entries(await store.readFields(PENDING))) {
      const record = JSON.parse(json) as PendingRecord;
      if (record.expiresAt > now) records.set(id, record);
      else expired.push(id);
    }
    await store.deleteFields(PENDING, expired);
    return records;
  };

  /** The pending record and the engine's request; a request already decided is no longer pending. */
  const open = async (authReqId: string) => {
    const record = (await live()).get(authReqId);
    const request = record ? await provider.BackchannelAuthenticationRequest.find(authReqId) : undefined;
    if (!record || !request || request.grantId || request.error) {
      if (record) await store.deleteFields(PENDING, [authReqId]);
      throw new CibaRequestNotFoundError(authReqId);
    }
    return { record, request };
  };

  type Request = Awaited<ReturnType<typeof open>>['request'];

  /**
   * Hands the decision to oidc-provider, which saves it and then pings a ping-mode client. A failed
   * ping (the client's endpoint is down) leaves a saved decision the client can still poll for.
   */
  const decide = async (
    record: PendingRecord,
    request: Request,
    result: Parameters<Provider['backchannelResult']>[1],
    options?: Parameters<Provider['backchannelResult']>[2],
  ) => {
    let notified: boolean | undefined = record.deliveryMode === 'ping' ? true : undefined;
    try {
      await provider.backchannelResult(request, result, options);
    } catch (error) {
      const saved = await provider.BackchannelAuthenticationRequest.find(record.authReqId, { ignoreExpiration: true });
      if (record.deliveryMode !== 'ping' || !(saved?.grantId || saved?.error)) throw error;
      notified = false;
      logger.warn(
        { event: 'ciba.ping_failed', client_id: record.clientId, auth_req: shortId(record.authReqId), detail: (error as Error).message },
        'CIBA ping notification failed; the client may still poll',
      );
    }
    await store.deleteFields(PENDING, [record.authReqId]);
    return notified;
  };

  (provider as unknown as NodeJS.EventEmitter).on('backchannel_authentication_request.saved', (request: Request) => {
    if (request.grantId || request.error) return;
    logger.info(
      { event: 'ciba.pending', client_id: request.clientId, sub: request.accountId, auth_req: shortId(request.jti) },
      'CIBA request waiting for approval',
    );
  });

  return {
    async pending() {
      const records = [...(await live()).values()].sort((a, b) => a.requestedAt - b.requestedAt);
      return records.map(({ consent: _consent, ...listed }) => listed);
    },

    async approve(authReqId, approval = {}) {
      const { record, request } = await open(authReqId);
      const grantId = await saveGrant(provider, { accountId: request.accountId, clientId: record.clientId }, record.consent);
      const notified = await decide(record, request, grantId, { acr: approval.acr, amr: approval.amr, authTime: epoch() });
      logger.info(
        { event: 'ciba.approved', client_id: record.clientId, sub: record.sub, auth_req: shortId(authReqId), notified },
        'CIBA request approved',
      );
      return { status: 'approved', ...(notified === undefined ? {} : { notified }) };
    },

    async deny(authReqId, description = 'the user denied the request') {
      const { record, request } = await open(authReqId);
      // backchannelResult records the error's `error_description` under a name the model does not
      // store (oidc-provider 9.13); set the stored field so the client's poll carries the description.
      request.errorDescription = description;
      const notified = await decide(record, request, new errors.AccessDenied(description));
      logger.info(
        { event: 'ciba.denied', client_id: record.clientId, sub: record.sub, auth_req: shortId(authReqId), notified },
        'CIBA request denied',
      );
      return { status: 'denied', ...(notified === undefined ? {} : { notified }) };
    },
  };
}

function epoch(): number {
  return Math.floor(Date.now() / 1000);
}

/** Enough of an auth_req_id to tell requests apart in logs and messages, never the whole value. */
function shortId(authReqId: string): string {
  return authReqId.length > 8 ? `${authReqId.slice(0, 6)}…` : authReqId;
}
