/**
 * Every place the testbed reaches into oidc-provider beyond its documented options: the reason the
 * engine is pinned to `~9.13.3` (checked against 9.13.3). Each line names the adaptation, what in
 * the engine it relies on, and the test that fails should the engine change under it.
 *
 * | adaptation | relies on | guarded by |
 * |---|---|---|
 * | token-error-corrections.ts: RFC error codes for the token endpoint | the `grant.error` event's `error_detail` / `error_description` texts | test/provider/bad-input.test.ts, dpop.test.ts |
 * | local-relaxations.ts: http/localhost redirect URIs for implicit and hybrid clients, http CIBA ping endpoints | `Client.Schema.prototype.invalidate` and its rule messages | test/provider/implicit-form-post.test.ts, ciba.test.ts |
 * | local-relaxations.ts: outgoing requests to loopback and private addresses | the `fetch` option replacing the SSRF-guarded one (9.7+) | test/provider/logout.test.ts (back-channel), jar.test.ts |
 * | front-channel.ts + route-responses.ts: browser-facing URLs on the public issuer, rewrites by route | `ctx.oidc.route` names and the JSON bodies of discovery and device authorization | test/provider/issuer-host-split.test.ts, discovery.test.ts |
 * | engine-form.ts: the device page's form re-rendered | the HTML `userCodeInputSource` receives (lib/helpers/user_code_form.js) | test/provider/ui/pages-in-browser.test.ts, device-flow.test.ts |
 * | dpop-validation.ts: DPoP in the testbed's own grants | lib/helpers/validate_dpop.js | test/provider/token-exchange.test.ts, password-grant.test.ts |
 * | ../extensions/jwt-records.ts: JWT access-token records | the claims lib/models/formats/jwt.js writes per model field | test/provider/introspection-revocation.test.ts |
 * | issue-hook.ts: every JWT the engine signs passed through one re-sign hook (scenarios) | `provider.IdToken.prototype.issue({ use })`, per provider instance | test/scenarios/*.test.ts |
 * | ../../control/sessions.ts: OP-initiated logout | `Client.prototype.backchannelLogout(sub, sid)` (untyped; resolves with nothing on 200/204, throws with `error.response` otherwise) sending through the `fetch` option (lib/helpers/fetch_request.js); Session payload fields `uid`, `accountId`, `loginTs`, `authorizations[clientId].{sid,grantId,persistsLogout}` | test/control/sessions.test.ts |
 * | ../../control/direct-tokens.ts: tokens issued outside the engine's routes | `new provider.OIDCContext(ctx)` (untyped), as the engine's router makes one for each route | test/control/direct-tokens.test.ts |
 * | keystore.ts: signing keys replaced at run time (key rotation) | `instance(provider).keystore` (KeyStore `add`/`clear`, `selectForSign` taking the first key of an alg) and `instance(provider).jwks.keys` (lib/helpers/initialize_keystore.js, the jwks route) | test/control/keys.test.ts |
 * | ../extensions/ciba.ts: a denial's description on poll | `BackchannelAuthenticationRequest.errorDescription` (backchannelResult stores another name) | test/provider/ciba.test.ts |
 * | ../clients.ts: run-time clients refused for fields the engine would drop; found anew once replaced or removed | the `provider.Client` constructor keeping only recognized metadata (lib/helpers/client_schema.js `ensureStripUnrecognized`); `Client.find` reading the `Client` adapter on every lookup, its cache keyed by the stored metadata's hash (lib/models/client.js) | test/control/clients.test.ts |
 */

export { checkDpopReplay, type DpopProof, validateDpop } from './dpop-validation.ts';
export { type EngineForm, type EngineFormInput, readEngineForm } from './engine-form.ts';
export { pinFrontChannelToIssuer } from './front-channel.ts';
export { type IssuedJwt, type ReissueJwt, reissueSignedJwts, type SignedJwtUse } from './issue-hook.ts';
export { engineSigningKeys, engineVerificationKeys, replaceEngineSigningKeys } from './keystore.ts';
export { type ClientRuleRelaxations, fetchAllowingLocalTargets, relaxClientRulesForLocalRps } from './local-relaxations.ts';
export { type BodyRewrite, rewriteRouteResponses } from './route-responses.ts';
export { correctTokenErrors } from './token-error-corrections.ts';
