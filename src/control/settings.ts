/**
 * What a test changed on a running issuer through its control endpoints (the clock, fault rules,
 * which signing key is current, run-time clients), kept in one field-set document of the issuer's
 * store so that replicas on one Redis share it: a change made through one replica is in force for
 * the next request another replica serves. Each request reads the document once, before the
 * testbed's layers that act on it; on a process-local store the read is a map lookup until
 * something in this process writes a field set.
 *
 * Each concern owns its fields by name (`clock`, `fault:<id>`, `keys`, …) and reads them from
 * `settingsOf(ctx)`, or from `current()` outside a request.
 */
import type { Middleware } from 'koa';
import type { Store } from '../store/store.ts';
import { StoreUnavailableError } from '../store/store-unavailable.ts';

const DOCUMENT = 'control';

/** The settings as one request saw them (field name → its text, as its concern wrote it). */
export type SettingsSnapshot = Readonly<Record<string, string>>;

const EMPTY: SettingsSnapshot = Object.freeze({});

/**
 * What brings a concern of this process up to a new snapshot of the settings (a rotated key set or
 * run-time client policies to read); undefined when it is up to date already.
 */
export type SettingsFollower = (fields: SettingsSnapshot) => Promise<void> | undefined;

export class ControlSettings {
  readonly #store: Store;
  readonly #followers: SettingsFollower[] = [];
  /** The snapshot every follower was last brought up to. */
  #followed: SettingsSnapshot | undefined;
  #cached: { revision: number; fields: SettingsSnapshot } | undefined;
  #lastRead: SettingsSnapshot = EMPTY;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The fields as they stand now. While the store is unavailable, the fields last read: the request
   * goes on to the engine, which answers the outage as the protocol says (an authorization request
   * is redirected back with `temporarily_unavailable`, RFC 6749 §4.1.2.1) instead of this layer.
   */
  async current(): Promise<SettingsSnapshot> {
    const revisions = this.#store.localRevisions;
    if (!revisions) {
      try {
        this.#lastRead = frozen(await this.#store.readFields(DOCUMENT));
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
      }
      return this.#lastRead;
    }
    if (this.#cached?.revision === revisions.fieldSets) return this.#cached.fields;
    const revision = revisions.fieldSets; // read before the store: a write meanwhile makes the next call read again
    const fields = frozen(await this.#store.readFields(DOCUMENT));
    this.#cached = { revision, fields };
    return fields;
  }

  /** Brings `follower` up to each new snapshot before the request it was read for goes on. */
  follow(follower: SettingsFollower): void {
    this.#followers.push(follower);
  }

  /** Runs the followers for `fields` unless they have seen that very snapshot (the common case: nothing changed). */
  followed(fields: SettingsSnapshot): Promise<void> | undefined {
    if (fields === this.#followed) return undefined;
    return this.#runFollowers(fields);
  }

  async #runFollowers(fields: SettingsSnapshot): Promise<void> {
    for (const follower of this.#followers) await follower(fields);
    this.#followed = fields;
  }

  /** The fields as last read, when nothing in this process wrote a field set since (process-local stores only). */
  cached(): SettingsSnapshot | undefined {
    const revisions = this.#store.localRevisions;
    return revisions && this.#cached?.revision === revisions.fieldSets ? this.#cached.fields : undefined;
  }

  async write(fields: Record<string, string>): Promise<void> {
    await this.#store.writeFields(DOCUMENT, fields);
  }

  async remove(fields: readonly string[]): Promise<void> {
    await this.#store.deleteFields(DOCUMENT, fields);
  }

  /** Removes every field whose name `matches` (all of them without a test): what `reset` does. */
  async clear(matches: (field: string) => boolean = () => true): Promise<void> {
    const names = Object.keys(await this.#store.readFields(DOCUMENT)).filter(matches);
    if (names.length > 0) await this.#store.deleteFields(DOCUMENT, names);
  }
}

const SNAPSHOT = Symbol('oidc-testbed control settings');

/**
 * Reads the issuer's settings once for the request, for `settingsOf` in the layers after it, and
 * brings the followers (keys, run-time clients) up to them first when they changed.
 */
export function readControlSettings(settings: ControlSettings): Middleware {
  return function readControlSettings(ctx, next) {
    const state = ctx.state as Record<symbol, SettingsSnapshot>;
    const go = (fields: SettingsSnapshot) => {
      state[SNAPSHOT] = fields;
      const following = settings.followed(fields);
      return following ? following.then(() => next()) : next();
    };
    const cached = settings.cached();
    return cached ? go(cached) : settings.current().then(go);
  };
}

/** The settings the request was read with (none outside an issuer's request). */
export function settingsOf(ctx: { state: unknown }): SettingsSnapshot {
  return (ctx.state as Record<symbol, SettingsSnapshot | undefined>)[SNAPSHOT] ?? EMPTY;
}

function frozen(fields: Record<string, string>): SettingsSnapshot {
  return Object.freeze(fields);
}
