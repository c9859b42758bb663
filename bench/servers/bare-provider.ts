/**
 * The "bare oidc-provider" peer: `new Provider(issuer, providerConfiguration(…))` built from the
 * same fixture with the testbed's own configuration builder, served by `provider.callback()` on a
 * plain node:http server. Left out on purpose: the testbed's Koa wrapper (request log, error
 * boundary, store-outage answer, /healthz), the JWT access-token records (introspection and
 * revocation of JWTs), the front-channel pinning and the mock APIs. Kept: the interaction routes,
 * without which no authorization code flow can finish, and the client-rule relaxations for local
 * RPs (http://localhost redirect URIs), without which the fixture's clients do not load. Grant
 * types the testbed adds with `registerGrantType` (token exchange, password) are removed from the
 * clients' metadata here, since this peer does not register them; no measured path uses them.
 *
 *   node bench/servers/bare-provider.ts [--fixture FILE]   → prints "listening <port>"
 */
import { parseArgs } from 'node:util';
import { Provider } from 'oidc-provider';
import { loadDefaultFixture, loadFixtureFile } from '../../src/fixtures/load.ts';
import { listenHttp } from '../../src/http/http-server.ts';
import { buildClientRegistry } from '../../src/provider/clients.ts';
import { oidcScopesOf, providerConfiguration } from '../../src/provider/configuration.ts';
import { relaxClientRulesForLocalRps } from '../../src/provider/engine/local-relaxations.ts';
import { resolveKeys } from '../../src/provider/keys.ts';
import { ResourceCatalog } from '../../src/provider/resources.ts';
import { interactionRoutes } from '../../src/provider/ui/interactions.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { UserDirectory } from '../../src/store/user-directory.ts';

const { values } = parseArgs({ options: { fixture: { type: 'string' }, port: { type: 'string', default: '0' } } });
const fixture = values.fixture ? loadFixtureFile(values.fixture) : loadDefaultFixture();
const served = await listenHttp(Number(values.port), '127.0.0.1');
const issuer = `http://localhost:${served.port}`;
const store = new MemoryStore();
const users = new UserDirectory(fixture.users, store);
const clients = buildClientRegistry(fixture);
const resources = new ResourceCatalog(fixture.resources, fixture.issuer, clients.policyOf, oidcScopesOf(fixture));
const keys = await resolveKeys(fixture.keys, { file: false });
const NATIVE_GRANTS = new Set([
  'authorization_code',
  'implicit',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:openid:params:grant-type:ciba',
]);
for (const client of clients.metadata) {
  if (client.grant_types) client.grant_types = client.grant_types.filter((grant) => NATIVE_GRANTS.has(grant));
}
const provider = new Provider(issuer, providerConfiguration({ fixture, keys, store, users, clients, resources, mountPath: '' }));
provider.proxy = true;
relaxClientRulesForLocalRps(provider, {
  implicitHttpRedirects: fixture.issuer.features.implicit_id_token,
  httpCibaNotifications: fixture.issuer.features.ciba.enabled,
});
provider.use(interactionRoutes({ provider, users, resources, policyOf: clients.policyOf, mountPath: '' }).routes());
served.serve(provider.callback());
process.stdout.write(`listening ${served.port}\n`);
process.on('SIGTERM', () => {
  void served.close().then(() => process.exit(0));
});
