/**
 * An issuer's clients: the fixture's (static: handed to oidc-provider at start) and those a test
 * puts at run time (`<issuer>/_testbed/clients/<client_id>`, `issuer.clients.put`), plus the
 * testbed's own policy per client (consent, auto-login, PKCE, resources, lifetimes).
 *
 * A run-time client lives where oidc-provider finds every non-static client, the `Client` model of
 * the store (dynamically registered clients live there too), so replicas on one Redis share it.
 * oidc-provider 9 (`Client.find`) reads that model on every lookup and keeps a built client only
 * under the hash of its stored metadata: a replaced or removed client is seen on the next request.
 * The policy, which oidc-provider never sees, is kept in a field-set document of the store; a
 * revision in the issuer's control settings (field `clients`) tells each replica when to re-read it.
 */
import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterPayload, ClientMetadata, Provider } from 'oidc-provider';
import type { z } from 'zod';
import { FixtureError, formatPath, validateEntry } from '../fixtures/load.ts';
import { type Fixture, type FixtureClient, type FixtureSchemas, fixtureSchemas } from '../fixtures/schema.ts';
import { type Problem, semanticProblems } from '../fixtures/semantics.ts';
import type { Store } from '../store/store.ts';

/** What the testbed decides per client beyond RFC 7591 metadata. */
export interface ClientPolicy {
  firstParty: boolean;
  autoLogin: boolean;
  pkceRequired: boolean;
  /** Resource indicators the client may request; `undefined` means every fixture resource. */
  allowedResources?: ReadonlySet<string>;
  accessTokenTTL?: number;
  refreshTokenTTL?: number;
  idTokenTTL?: number;
}

const TESTBED_FIELDS: ReadonlySet<string> = new Set([
  'first_party',
  'auto_login',
  'pkce_required',
  'allowed_resources',
  'access_token_ttl',
  'refresh_token_ttl',
  'id_token_ttl',
]);

/** Where a client comes from: the fixture, a run-time `put`, or dynamic registration (RFC 7591). */
export type ClientSource = 'fixture' | 'run-time' | 'registration';

/** A client entry as `put` takes it: a fixture client entry, whose `client_id` may be left out (the id given wins). */
export type ClientEntryInput = {
  [Field in keyof z.input<FixtureSchemas['clientSchema']> as Field extends 'client_id' ? never : Field]: z.input<
    FixtureSchemas['clientSchema']
  >[Field];
} & { client_id?: string };

/** A client as `list` shows it: its entry without `client_secret`, and where it comes from. */
// Not `Omit`: over the entry's index signature (open-ended metadata) it would drop the named fields.
export type ListedClient = { [Field in keyof FixtureClient as Field extends 'client_secret' ? never : Field]: FixtureClient[Field] } & {
  source: ClientSource;
};

/** Why a run-time client operation was refused; `status` and `error` are its HTTP answer. */
export class ClientChangeError extends Error {
  readonly status: 400 | 404 | 409;
  readonly error: 'invalid_request' | 'not_found' | 'conflict';

  constructor(status: 400 | 404 | 409, error: 'invalid_request' | 'not_found' | 'conflict', message: string) {
    super(message);
    this.name = 'ClientChangeError';
    this.status = status;
    this.error = error;
  }
}

/**
 * The fields run-time client changes are announced in to every replica: the issuer's control
 * settings (src/control/settings.ts), a layer above this one, given by shape.
 */
export interface SharedFields {
  current(): Promise<Readonly<Record<string, string>>>;
  write(fields: Record<string, string>): Promise<void>;
}

/** The control settings field holding the revision of the run-time clients. */
export const CLIENTS_REVISION_FIELD = 'clients';
/** The field-set document of the run-time clients: client_id → the validated entry (JSON). */
const ENTRIES_DOCUMENT = 'run-time-clients';

interface Attachment {
  provider: Provider;
  store: Store;
  settings: SharedFields;
}

export class ClientRegistry {
  /** The static clients' metadata, as oidc-provider's `clients` option takes it. */
  readonly metadata: ClientMetadata[];
  readonly #fixture: Fixture;
  readonly #policies = new Map<string, ClientPolicy>();
  readonly #sources = new Map<string, readonly PropertyKey[]>();
  /** The static clients as `get` and `list` show them (fixture entries; introspection clients' metadata). */
  readonly #staticEntries = new Map<string, FixtureClient>();
  // Clients the fixture does not name and no run-time entry covers: dynamically registered ones
  // (RFC 7591), whose metadata cannot carry the testbed fields. PKCE always, consent asked unless
  // auto-login implies it, every fixture resource, the issuer's lifetimes.
  readonly #fallback: ClientPolicy;
  #runTime = new Map<string, ClientPolicy>();
  /** The revision `#runTime` was read at (`undefined`: none written yet). */
  #revision: string | undefined;
  #reading: { revision: string | undefined; done: Promise<void> } | undefined;
  #attachment: Attachment | undefined;

  /**
   * Splits fixture clients into the metadata oidc-provider validates and the testbed's own policy.
   * Each resource with `introspection_client` also gets a confidential client with no grants, the
   * mock API's credentials for RFC 7662 introspection.
   */
  constructor(fixture: Fixture) {
    this.#fixture = fixture;
    this.metadata = fixture.clients.map((client, index) => {
      this.#policies.set(client.client_id, policyFrom(client, fixture.issuer.auto_login));
      this.#sources.set(client.client_id, ['clients', index]);
      this.#staticEntries.set(client.client_id, client);
      return engineMetadata(client);
    });
    for (const [index, resource] of fixture.resources.entries()) {
      if (!resource.introspection_client) continue;
      const metadata = {
        ...resource.introspection_client,
        client_name: `${resource.name} (resource server)`,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      };
      this.#sources.set(metadata.client_id, ['resources', index, 'introspection_client']);
      this.#staticEntries.set(metadata.client_id, metadata);
      this.metadata.push(metadata);
    }
    this.#fallback = { firstParty: false, autoLogin: fixture.issuer.auto_login, pkceRequired: true };
  }

  /** The testbed's policy for a client (synchronous: read on the engine's hot paths). */
  readonly policyOf = (clientId: string): ClientPolicy => this.#policies.get(clientId) ?? this.#runTime.get(clientId) ?? this.#fallback;

  /** Where each static client comes from in the fixture (for errors), by client_id. */
  readonly sourceOf = (clientId: string): readonly PropertyKey[] => this.#sources.get(clientId) ?? ['clients'];

  /** Connects the run-time operations to the issuer's engine, store and control settings, once they exist. */
  attach(provider: Provider, store: Store, settings: SharedFields): void {
    this.#attachment = { provider, store, settings };
  }

  /**
   * Brings the run-time policies up to the revision a request was read with (its control settings
   * snapshot): a no-op unless another replica, or a reset, changed the run-time clients since.
   */
  follow(settings: Readonly<Record<string, string>>): Promise<void> | undefined {
    const revision = settings[CLIENTS_REVISION_FIELD];
    // Nothing to read (every request but the first after a change): no promise on the hot path.
    return revision !== this.#revision && this.#attachment ? this.#read(revision) : undefined;
  }

  /** A client's entry (with its secret), whatever its source; `undefined` for an unknown client_id. */
  async get(clientId: string): Promise<FixtureClient | undefined> {
    const fixed = this.#staticEntries.get(clientId);
    if (fixed) return fixed;
    const stored = (await this.#entries())[clientId];
    if (stored) return stored;
    const registered = await this.#adapter().find(clientId);
    return registered ? (registered as unknown as FixtureClient) : undefined;
  }

  /** Every client: the fixture's, then run-time and dynamically registered ones by client_id; secrets left out. */
  async list(): Promise<ListedClient[]> {
    const runTime = await this.#entries();
    const registered = (await this.#store.listRecords('Client'))
      .filter(({ id }) => !Object.hasOwn(runTime, id) && !this.#staticEntries.has(id))
      .map(({ payload }) => payload as unknown as FixtureClient);
    const byId = (a: FixtureClient, b: FixtureClient) => a.client_id.localeCompare(b.client_id);
    return [
      ...[...this.#staticEntries.values()].map((entry) => listed(entry, 'fixture')),
      ...Object.values(runTime)
        .sort(byId)
        .map((entry) => listed(entry, 'run-time')),
      ...registered.sort(byId).map((entry) => listed(entry, 'registration')),
    ];
  }

  /**
   * Adds or replaces a run-time client, validated as a fixture client entry is (the same messages,
   * paths inside the entry) and as oidc-provider validates clients, with no unknown field. The
   * client_id is `clientId`. Resolves with the stored entry and whether it replaced one.
   */
  async put(clientId: string, input: ClientEntryInput): Promise<{ client: FixtureClient; replaced: boolean }> {
    const { provider, settings } = this.#attached();
    await this.#refuseOthers(clientId);
    const entry = await this.#validate(provider, clientId, input);
    const replaced = Object.hasOwn(await this.#entries(), clientId);
    // The policy first: a client found without its policy would get the fallback's for a moment.
    await this.#store.writeFields(ENTRIES_DOCUMENT, { [clientId]: JSON.stringify(entry) });
    await this.#adapter().upsert(clientId, engineMetadata(entry) as unknown as AdapterPayload);
    await this.#announce(settings);
    return { client: entry, replaced };
  }

  /**
   * Removes a run-time client. oidc-provider refuses it from the next request on (`invalid_client`);
   * its grants and the tokens issued under them are revoked, so that a client put again under the
   * same client_id does not bring them back.
   */
  async remove(clientId: string): Promise<void> {
    const { provider, settings } = this.#attached();
    await this.#refuseOthers(clientId);
    if (!Object.hasOwn(await this.#entries(), clientId)) {
      throw new ClientChangeError(404, 'not_found', `no run-time client "${clientId}"`);
    }
    await this.#drop(provider, [clientId]);
    await this.#announce(settings);
  }

  /** Removes every run-time client (as `remove` does): the issuer's clients are the fixture's again. */
  async reset(): Promise<void> {
    const { provider, settings } = this.#attached();
    const ids = Object.keys(await this.#entries());
    if (ids.length > 0) await this.#drop(provider, ids);
    await this.#announce(settings);
  }

  #attached(): Attachment {
    if (!this.#attachment) throw new Error('the client registry is not attached to its issuer yet');
    return this.#attachment;
  }

  get #store(): Store {
    return this.#attached().store;
  }

  #adapter(): Adapter {
    return this.#store.adapterFor('Client');
  }

  async #entries(): Promise<Record<string, FixtureClient>> {
    const fields = await this.#store.readFields(ENTRIES_DOCUMENT);
    return Object.fromEntries(Object.entries(fields).map(([id, text]) => [id, JSON.parse(text) as FixtureClient]));
  }

  /** A static client wins over the store in oidc-provider's lookup; a registered one belongs to RFC 7592. */
  async #refuseOthers(clientId: string): Promise<void> {
    const source = this.#sources.get(clientId);
    if (source) {
      throw new ClientChangeError(
        409,
        'conflict',
        `"${clientId}" is a fixture client (${formatPath(source)}), which oidc-provider looks up before run-time clients: change the fixture, or pick another client_id`,
      );
    }
    if (!Object.hasOwn(await this.#entries(), clientId) && (await this.#adapter().find(clientId))) {
      throw new ClientChangeError(
        409,
        'conflict',
        `"${clientId}" was registered dynamically (RFC 7591): manage it with its registration access token (RFC 7592), or pick another client_id`,
      );
    }
  }

  async #validate(provider: Provider, clientId: string, input: unknown): Promise<FixtureClient> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ClientChangeError(400, 'invalid_request', 'the body must be a JSON object: a fixture client entry');
    }
    const given = (input as Record<string, unknown>).client_id;
    if (given !== undefined && given !== clientId) {
      throw new ClientChangeError(400, 'invalid_request', `client_id: must be "${clientId}", the client_id of the path (or left out)`);
    }
    let entry: FixtureClient;
    try {
      entry = validateEntry(fixtureSchemas().clientSchema, { ...input, client_id: clientId }, 'client');
    } catch (error) {
      if (error instanceof FixtureError) throw refusal(error.problems);
      throw error;
    }
    // The fixture's rules across fields (secrets per auth method, features the metadata needs, the
    // profile's rules, allowed_resources among the fixture's resources), for this one entry.
    const semantic = semanticProblems({ ...this.#fixture, clients: [entry], issuers: [] }).map((problem) => ({
      ...problem,
      path: problem.path.slice(2), // ['clients', 0, …]
    }));
    if (semantic.length > 0) throw refusal(semantic);
    const metadata = engineMetadata(entry);
    try {
      await provider.Client.validate(metadata);
    } catch (error) {
      throw new ClientChangeError(400, 'invalid_request', engineRefusal(error));
    }
    // The fixture lets oidc-provider ignore metadata it does not know (RFC 7591 §2); a client put
    // by a test names every field on purpose, so a typo (`redirect_uri`) is an error here.
    const recognized = new Set(Object.keys(engineClient(provider, metadata).metadata()));
    const unknown = Object.keys(metadata).filter((field) => !recognized.has(field));
    if (unknown.length > 0) {
      throw new ClientChangeError(
        400,
        'invalid_request',
        `${unknown.join(', ')}: unknown field${unknown.length > 1 ? 's' : ''}, neither client metadata oidc-provider recognizes with this issuer's features nor a testbed field (${[...TESTBED_FIELDS].join(', ')})`,
      );
    }
    return entry;
  }

  /** Removes clients from the engine's model, their grants and tokens, and their policies. */
  async #drop(provider: Provider, clientIds: readonly string[]): Promise<void> {
    const ids = new Set(clientIds);
    for (const id of ids) await this.#adapter().destroy(id);
    const grants = (await this.#store.listRecords('Grant')).filter(({ payload }) => ids.has(String(payload.clientId)));
    // The provider's adapters: its AccessToken one also marks JWT access tokens of the grant revoked.
    const grantable = [
      provider.AccessToken,
      provider.AuthorizationCode,
      provider.RefreshToken,
      provider.DeviceCode,
      provider.BackchannelAuthenticationRequest,
    ];
    for (const { id } of grants) {
      for (const model of grantable) await model.adapter.revokeByGrantId(id);
      await provider.Grant.adapter.destroy(id);
    }
    for (const { id, payload } of await this.#store.listRecords('ClientCredentials')) {
      if (ids.has(String(payload.clientId))) await provider.ClientCredentials.adapter.destroy(id);
    }
    await this.#store.deleteFields(ENTRIES_DOCUMENT, [...ids]);
  }

  /** A new revision for every replica, and this one's policies read at it. */
  async #announce(settings: SharedFields): Promise<void> {
    const revision = randomUUID();
    await settings.write({ [CLIENTS_REVISION_FIELD]: revision });
    await this.#read(revision);
  }

  /**
   * Reads the policies, labelled with `revision`. Read after the revision: should another change
   * land meanwhile, the next request sees a revision other than the label and reads again.
   */
  #read(revision: string | undefined): Promise<void> {
    const reading = this.#reading;
    if (reading && reading.revision === revision) return reading.done;
    const done = (async () => {
      const entries = await this.#entries();
      const autoLogin = this.#fixture.issuer.auto_login;
      this.#runTime = new Map(Object.entries(entries).map(([id, entry]) => [id, policyFrom(entry, autoLogin)]));
      this.#revision = revision;
    })().finally(() => {
      if (this.#reading?.done === done) this.#reading = undefined;
    });
    this.#reading = { revision, done };
    return done;
  }
}

/** The registry of a fixture's clients (run-time clients need `attach` too). */
export function buildClientRegistry(fixture: Fixture): ClientRegistry {
  return new ClientRegistry(fixture);
}

/**
 * oidc-provider validates static clients when first used; a testbed checks them all at start-up,
 * so a fixture client it would refuse stops the start with the engine's reason.
 */
export async function clientMetadataProblems(provider: Provider, registry: ClientRegistry): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const { client_id: clientId } of registry.metadata) {
    try {
      await provider.Client.find(clientId);
    } catch (error) {
      problems.push({ path: registry.sourceOf(clientId), message: engineRefusal(error) });
    }
  }
  return problems;
}

function engineRefusal(error: unknown): string {
  const { error_description: description, message } = error as Error & { error_description?: string };
  return `oidc-provider refuses this client: ${description ?? message}`;
}

/**
 * A client built from metadata without being stored, to learn which of its fields the engine keeps:
 * its `Client` constructor (lib/helpers/add_client.js) drops metadata it does not recognize.
 */
function engineClient(provider: Provider, metadata: ClientMetadata): { metadata(): ClientMetadata } {
  const Client = provider.Client as unknown as new (metadata: ClientMetadata) => { metadata(): ClientMetadata };
  return new Client(metadata);
}

function refusal(problems: readonly Problem[]): ClientChangeError {
  const text = problems.map(({ path, message }) => (path.length > 0 ? `${formatPath(path)}: ${message}` : message)).join('; ');
  return new ClientChangeError(400, 'invalid_request', text);
}

/** The metadata oidc-provider gets: the entry without the testbed's own fields. */
function engineMetadata(client: FixtureClient): ClientMetadata {
  return Object.fromEntries(
    Object.entries(client).filter(([field, value]) => value !== undefined && !TESTBED_FIELDS.has(field)),
  ) as ClientMetadata;
}

function listed(entry: FixtureClient, source: ClientSource): ListedClient {
  const { client_secret: _secret, ...rest } = entry;
  return { ...rest, source };
}

function policyFrom(client: FixtureClient, issuerAutoLogin: boolean): ClientPolicy {
  return {
    firstParty: client.first_party ?? false,
    autoLogin: client.auto_login ?? issuerAutoLogin,
    pkceRequired: client.token_endpoint_auth_method === 'none' || client.pkce_required !== false,
    allowedResources: client.allowed_resources ? new Set(client.allowed_resources) : undefined,
    accessTokenTTL: client.access_token_ttl,
    refreshTokenTTL: client.refresh_token_ttl,
    idTokenTTL: client.id_token_ttl,
  };
}
