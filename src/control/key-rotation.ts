/**
 * Signing-key rotation of one issuer (issue 20, item 3): a new key of an algorithm becomes the one
 * the engine signs with for it (ID tokens, JWT access tokens, JARM, signed userinfo and
 * introspection, logout tokens); the keys it replaces stay in the JWKS, so tokens already issued
 * still verify, unless they are retired. `reset()` brings back the keys the issuer started with.
 *
 * Shared by replicas: a rotated key set (private keys, as the start-up keys are) is a field of the
 * issuer's `signing-keys` field-set document, named by a revision, and the control settings'
 * `keys` field names the revision in force (none: the start-up keys). Each request of the issuer
 * passes `follow` (a follower of its control settings), which applies the revision its settings name when this process has not yet.
 * Rotation is per issuer: issuers that started with one key set (src/issuers/issuer-set.ts) each
 * keep a copy of it in their engine, and nothing here writes to the IssuerKeys they were given.
 */
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type { Provider } from 'oidc-provider';
import { engineSigningKeys, replaceEngineSigningKeys } from '../provider/engine/index.ts';
import { generateSigningKey, SIGNING_KEY_ALGORITHMS, type SigningKeyAlgorithm } from '../provider/keys.ts';
import type { Store } from '../store/store.ts';
import type { ControlSettings, SettingsSnapshot } from './settings.ts';

export { SIGNING_KEY_ALGORITHMS, type SigningKeyAlgorithm };

/** The control-settings field naming the key set in force. */
const SETTINGS_FIELD = 'keys';
/** The field-set document of rotated key sets, one field per revision. */
const KEY_SETS_DOCUMENT = 'signing-keys';
/** The revision of the keys the issuer started with. */
export const START_REVISION = 'start';

/** What `rotate` is asked. */
export interface RotateKeyOptions {
  /** The algorithm of the new key. Default RS256 (the ID-token default). */
  alg?: SigningKeyAlgorithm;
  /** Remove every earlier key of `alg` from the JWKS: tokens they signed no longer verify. Default false. */
  retirePrevious?: boolean;
}

/** One signing key as listed (its public facts only). */
export interface SigningKeyEntry {
  kid: string;
  alg: string;
  use: 'sig';
  /** Whether the issuer signs with this key for its `alg` (the first of that alg). */
  current: boolean;
}

export interface SigningKeyList {
  /** Every signing key in the JWKS, most preferred first. */
  keys: SigningKeyEntry[];
  /** The kid signed with, by alg. */
  current: Record<string, string>;
}

export interface RotatedKey extends SigningKeyList {
  /** The new key, now the current one for `alg`. */
  kid: string;
  alg: SigningKeyAlgorithm;
  /** Kids of the keys removed (`retirePrevious`), else none. */
  retired: string[];
}

export interface SigningKeyRotationOptions {
  provider: Provider;
  /** The issuer's store (its namespace): rotated key sets live there. */
  store: Store;
  settings: ControlSettings;
}

/** The signing keys of one issuer, as tests change them: `issuer.keys`. */
export class SigningKeyRotation {
  readonly #provider: Provider;
  readonly #store: Store;
  readonly #settings: ControlSettings;
  readonly #startKeys: readonly JWK[];
  #applied = START_REVISION;
  /** Changes of this process, one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SigningKeyRotationOptions) {
    this.#provider = options.provider;
    this.#store = options.store;
    this.#settings = options.settings;
    this.#startKeys = engineSigningKeys(options.provider);
  }

  /** The revision of the key set this process signs with (`START_REVISION` for the start-up keys); it changes with every rotation and reset. */
  get revision(): string {
    return this.#applied;
  }

  /** Makes a fresh key of `alg` the one signed with; the earlier ones stay in the JWKS unless `retirePrevious`. */
  rotate(options: RotateKeyOptions = {}): Promise<RotatedKey> {
    const alg = options.alg ?? 'RS256';
    if (!(SIGNING_KEY_ALGORITHMS as readonly string[]).includes(alg)) {
      return Promise.reject(new TypeError(`alg must be one of ${SIGNING_KEY_ALGORITHMS.join(', ')}`));
    }
    return this.#serially(async () => {
      await this.#followNow((await this.#settings.current())[SETTINGS_FIELD]);
      const key = await generateSigningKey(alg);
      const earlier = engineSigningKeys(this.#provider);
      const retired = options.retirePrevious ? earlier.filter((jwk) => jwk.alg === alg).map((jwk) => jwk.kid!) : [];
      const next = [key, ...earlier.filter((jwk) => !retired.includes(jwk.kid!))];
      const revision = randomUUID();
      const stored = await this.#store.writeFields(KEY_SETS_DOCUMENT, { [revision]: JSON.stringify(next) });
      await this.#settings.write({ [SETTINGS_FIELD]: revision });
      this.#apply(revision, next);
      // Earlier sets are no longer named; a replica still reading one keeps its keys until its next request.
      await this.#store.deleteFields(
        KEY_SETS_DOCUMENT,
        Object.keys(stored).filter((field) => field !== revision),
      );
      return { kid: key.kid!, alg, retired, ...this.#listing() };
    });
  }

  /** The signing keys in the JWKS and which is current per alg, as the next request will see them. */
  async list(): Promise<SigningKeyList> {
    await this.synchronize();
    return this.#listing();
  }

  /** Back to the keys the issuer started with (on every replica). */
  reset(): Promise<void> {
    return this.#serially(async () => {
      await this.#settings.remove([SETTINGS_FIELD]);
      const stored = Object.keys(await this.#store.readFields(KEY_SETS_DOCUMENT));
      if (stored.length > 0) await this.#store.deleteFields(KEY_SETS_DOCUMENT, stored);
      this.#apply(START_REVISION, this.#startKeys);
    });
  }

  /** Applies the key set the shared settings name now, if this process has not; returns the revision in force. */
  async synchronize(): Promise<string> {
    const named = (await this.#settings.current())[SETTINGS_FIELD];
    if ((named ?? START_REVISION) !== this.#applied) await this.#serially(() => this.#followNow(named));
    return this.#applied;
  }

  /** Brings the engine to the key set a request's settings name (a ControlSettings follower, run before the engine signs or serves the JWKS). */
  readonly follow = (fields: SettingsSnapshot): Promise<void> | undefined => {
    const named = fields[SETTINGS_FIELD];
    if ((named ?? START_REVISION) === this.#applied) return undefined;
    return this.#serially(() => this.#followNow(named));
  };

  async #followNow(named: string | undefined): Promise<void> {
    const revision = named ?? START_REVISION;
    if (revision === this.#applied) return;
    if (revision === START_REVISION) return this.#apply(START_REVISION, this.#startKeys);
    const text = (await this.#store.readFields(KEY_SETS_DOCUMENT))[revision];
    // Gone: a later rotation replaced it meanwhile; the request that reads that one applies it.
    if (text !== undefined) this.#apply(revision, JSON.parse(text) as JWK[]);
  }

  #apply(revision: string, keys: readonly JWK[]): void {
    replaceEngineSigningKeys(this.#provider, keys);
    this.#applied = revision;
  }

  #listing(): SigningKeyList {
    const current: Record<string, string> = {};
    const keys = engineSigningKeys(this.#provider).map(({ kid, alg }) => {
      const first = current[alg!] === undefined;
      if (first) current[alg!] = kid!;
      return { kid: kid!, alg: alg!, use: 'sig' as const, current: first };
    });
    return { keys, current };
  }

  #serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(change);
    this.#queue = done.catch(() => undefined);
    return done;
  }
}
