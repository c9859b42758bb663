import { createHash, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { builtOnce, zod } from '../fixtures/built-once.ts';
import { FixtureError, validateEntry } from '../fixtures/load.ts';
import { type FixtureSchemas, type FixtureUser, fixtureSchemas } from '../fixtures/schema.ts';
import { MemoryStore } from './memory-store.ts';
import { GRANTABLE_MODELS, type Store } from './store.ts';

/** A user as the testbed serves it: `sub` resolved, claims as changed at run time. */
export interface User {
  sub: string;
  username: string;
  claims: Record<string, unknown>;
  roles: string[];
}

/** A user entry as `put` takes it: a fixture user entry (`username`, when given, must be the one it is put under). */
export type UserEntryInput = Omit<z.input<FixtureSchemas['userSchema']>, 'username'> & { username?: string };

/** What `patch` changes: claims merged (`null` removes one), the password, the roles. `sub` cannot change. */
export interface UserChanges {
  claims?: Record<string, unknown>;
  password?: string;
  roles?: string[];
  /** Accepted only when it is the user's own (a client sending the user back with its changes). */
  sub?: string;
  username?: string;
}

/** A user `put` under a username, and whether it is new there. */
export interface PutUser {
  user: User;
  created: boolean;
}

/** A `put` whose `sub` another user already has (HTTP 409). */
export class UserConflictError extends Error {
  constructor(username: string, sub: string, holder: string) {
    super(`sub "${sub}" is already the subject identifier of user "${holder}": pick another for "${username}"`);
    this.name = 'UserConflictError';
  }
}

/** What `change` takes (the fixture's user fields), built on first use. */
const changesSchema = builtOnce(() => {
  const z = zod();
  const { userSchema } = fixtureSchemas();
  return z.strictObject({
    username: userSchema.shape.username.optional(),
    sub: userSchema.shape.sub,
    password: userSchema.shape.password.optional(),
    claims: z.record(z.string(), z.unknown()).optional(),
    roles: z.array(z.string()).optional(),
  });
});

interface Entry {
  sub: string;
  username: string;
  claims: Record<string, unknown>;
  roles: readonly string[];
  passwordDigest: Buffer;
}

/** A run-time entry as stored: the password only as its SHA-256 digest. `null` is a removed fixture user. */
interface StoredEntry {
  sub: string;
  claims: Record<string, unknown>;
  roles: string[];
  password_sha256: string;
}

interface Index {
  byUsername: ReadonlyMap<string, Entry>;
  bySub: ReadonlyMap<string, Entry>;
  /** Usernames of run-time entries (put, patched or removed), as stored. */
  stored: Readonly<Record<string, string>>;
}

/** Run-time entries, one field per username, in the directory's store. */
const ENTRIES = 'users';

/**
 * The testbed's users: loaded from the fixture, changed at run time (the control endpoints
 * `<issuer>/_testbed/users/…`, the mock APIs' claim updates), and looked up by the login page, the
 * account lookup of oidc-provider and the mock APIs.
 *
 * Everything changed at run time lives in the issuer's store: users put, patched or removed (one
 * field set, a field per username) and claim changes (one field set per user, a field per changed
 * claim). Every lookup reads them, so with Redis a change made through one replica is seen by all,
 * and survives restarts; every method is therefore async. On a process-local store (memory) the
 * directory is built once and kept until the store's field-set counter moves (any write in this
 * process), so repeated lookups cost a map read; users handed out are then shared, so they are frozen.
 *
 * One directory may serve several issuers (those sharing the main fixture's users): each tells it
 * where its sessions are (`servesIssuer`), so that a removed user's sessions end on all of them.
 */
export class UserDirectory {
  readonly #fixture: readonly Entry[];
  readonly #store: Store;
  readonly #sessionStores = new Map<string, Store>();
  #index: { revision: number; index: Index } | undefined;
  #built: { revision: number; users: Map<string, User> } | undefined;

  /** `store`: where run-time changes are kept (the issuer's store); a private in-memory one by default. */
  constructor(users: readonly FixtureUser[], store: Store = new MemoryStore()) {
    this.#store = store;
    this.#fixture = users.map((user) => ({
      sub: user.sub ?? user.username,
      username: user.username,
      claims: structuredClone(user.claims),
      roles: [...user.roles],
      passwordDigest: digest(user.password),
    }));
  }

  /**
   * An issuer serving these users keeps its sessions and grants in `store`: a removed user's end
   * there too. Keyed by issuer identifier (a scenario run made again replaces its entry).
   */
  servesIssuer(issuer: string, store: Store): void {
    this.#sessionStores.set(issuer, store);
  }

  /** The issuer is gone (a scenario run dropped when idle): its sessions are no longer this directory's to end. */
  stopServing(issuer: string): void {
    this.#sessionStores.delete(issuer);
  }

  async findBySub(sub: string): Promise<User | undefined> {
    const entry = (await this.#entries()).bySub.get(sub);
    return entry ? this.#current(entry) : undefined;
  }

  /** A `login_hint` may name a user by username or by sub. */
  async findByHint(hint: string | undefined): Promise<User | undefined> {
    if (!hint) return undefined;
    const index = await this.#entries();
    const entry = index.byUsername.get(hint) ?? index.bySub.get(hint);
    return entry ? this.#current(entry) : undefined;
  }

  /** The user of a username, or `undefined`. */
  async get(username: string): Promise<User | undefined> {
    const entry = (await this.#entries()).byUsername.get(username);
    return entry ? this.#current(entry) : undefined;
  }

  /** Returns the user when the password matches (compared in constant time). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const entry = (await this.#entries()).byUsername.get(username);
    const candidate = digest(password);
    const expected = entry?.passwordDigest ?? candidate.map((byte) => byte ^ 0xff);
    return timingSafeEqual(candidate, expected) && entry ? this.#current(entry) : undefined;
  }

  /** Every user: the fixture's in their order (as changed), then those put at run time by username. */
  async list(): Promise<User[]> {
    return Promise.all([...(await this.#entries()).byUsername.values()].map((entry) => this.#current(entry)));
  }

  /**
   * Puts a user under `username`, validated as a fixture user entry (a `FixtureError` naming the
   * field); replaces the user there, a fixture user too, with its claim changes. A `sub` another user
   * has is a `UserConflictError`. When the user had another `sub`, that account's sessions and grants end.
   */
  async put(username: string, input: UserEntryInput): Promise<PutUser> {
    const source = `user "${username}"`;
    const user = validateEntry(fixtureSchemas().userSchema, isObject(input) ? { username, ...input } : input, source);
    if (user.username !== username)
      throw new FixtureError(source, [{ path: ['username'], message: `must be "${username}", the username it is put under` }]);
    const sub = user.sub ?? username;
    const index = await this.#entries();
    const holder = index.bySub.get(sub);
    if (holder && holder.username !== username) throw new UserConflictError(username, sub, holder.username);
    const previous = index.byUsername.get(username);
    const stored: StoredEntry = {
      sub,
      claims: user.claims,
      roles: user.roles,
      password_sha256: digest(user.password).toString('base64url'),
    };
    await this.#dropClaimChanges([sub, ...(previous ? [previous.sub] : [])]);
    await this.#store.writeFields(ENTRIES, { [username]: JSON.stringify(stored) });
    if (previous && previous.sub !== sub) await this.#endAccount(previous.sub);
    return { user: toUser(entryOf(username, stored), {}), created: !previous };
  }

  /**
   * Changes a user: claims merged (`null` removes one; concurrent changes to different claims all
   * apply), and the password or roles replaced. `sub` cannot change (a `FixtureError`). `undefined`
   * for an unknown username.
   */
  async patch(username: string, input: UserChanges): Promise<User | undefined> {
    const source = `user "${username}"`;
    const changes = validateEntry(changesSchema(), input, source);
    const entry = (await this.#entries()).byUsername.get(username);
    if (!entry) return undefined;
    if (changes.username !== undefined && changes.username !== username) {
      throw new FixtureError(source, [
        { path: ['username'], message: 'cannot change (put the user under the new username and remove this one)' },
      ]);
    }
    if (changes.sub !== undefined && changes.sub !== entry.sub) {
      throw new FixtureError(source, [{ path: ['sub'], message: `cannot change (it is "${entry.sub}"; put the user to replace it)` }]);
    }
    if (changes.password !== undefined || changes.roles !== undefined) {
      const stored: StoredEntry = {
        sub: entry.sub,
        claims: entry.claims,
        roles: changes.roles ?? [...entry.roles],
        password_sha256: (changes.password === undefined ? entry.passwordDigest : digest(changes.password)).toString('base64url'),
      };
      await this.#store.writeFields(ENTRIES, { [username]: JSON.stringify(stored) });
    }
    if (changes.claims) return this.updateClaims(entry.sub, changes.claims);
    return this.get(username);
  }

  /**
   * Removes a user (a fixture user too, until `reset`): the username and sub are free again, and
   * the user's sessions and grants end on every issuer it served (its refresh and access tokens
   * stop working, as at an IdP whose account was deleted). `false` for an unknown username.
   */
  async remove(username: string): Promise<boolean> {
    const entry = (await this.#entries()).byUsername.get(username);
    if (!entry) return false;
    if (this.#fixture.some((user) => user.username === username)) await this.#store.writeFields(ENTRIES, { [username]: 'null' });
    else await this.#store.deleteFields(ENTRIES, [username]);
    await this.#dropClaimChanges([entry.sub]);
    await this.#endAccount(entry.sub);
    return true;
  }

  /**
   * Back to the fixture's users: run-time entries, claim changes and removals dropped. Sessions and
   * grants of accounts that are gone afterwards (users only put at run time) end.
   */
  async reset(): Promise<void> {
    const { stored, bySub } = await this.#entries();
    const fixtureSubs = new Set(this.#fixture.map((user) => user.sub));
    const storedSubs = Object.values(stored).flatMap((json) => {
      const entry = JSON.parse(json) as StoredEntry | null;
      return entry ? [entry.sub] : [];
    });
    await this.#dropClaimChanges([...new Set([...fixtureSubs, ...bySub.keys(), ...storedSubs])]);
    const usernames = Object.keys(stored);
    if (usernames.length > 0) await this.#store.deleteFields(ENTRIES, usernames);
    for (const sub of new Set(storedSubs)) if (!fixtureSubs.has(sub)) await this.#endAccount(sub);
  }

  /**
   * Merges claim changes into a user and returns the user as changed; `null` removes a claim.
   * `sub` cannot change. Concurrent changes to different claims (from any replica) all apply.
   */
  async updateClaims(sub: string, changes: Record<string, unknown>): Promise<User | undefined> {
    const entry = (await this.#entries()).bySub.get(sub);
    if (!entry) return undefined;
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(changes)) {
      if (name !== 'sub' && value !== undefined) fields[name] = JSON.stringify(value);
    }
    fields.updated_at = JSON.stringify(Math.floor(Date.now() / 1000));
    return toUser(entry, await this.#store.writeFields(changesOf(sub), fields));
  }

  /** The fixture's users with the run-time entries over them; kept per field-set revision on a local store. */
  async #entries(): Promise<Index> {
    const revisions = this.#store.localRevisions;
    if (!revisions) return this.#buildIndex(await this.#store.readFields(ENTRIES));
    if (this.#index?.revision === revisions.fieldSets) return this.#index.index;
    const revision = revisions.fieldSets; // read before the store: a write meanwhile makes the next lookup rebuild
    const index = this.#buildIndex(await this.#store.readFields(ENTRIES));
    this.#index = { revision, index };
    return index;
  }

  #buildIndex(stored: Record<string, string>): Index {
    const byUsername = new Map<string, Entry>();
    for (const entry of this.#fixture) {
      if (!Object.hasOwn(stored, entry.username)) byUsername.set(entry.username, entry);
      else {
        const replaced = fromStored(entry.username, stored[entry.username]);
        if (replaced) byUsername.set(entry.username, replaced);
      }
    }
    for (const username of Object.keys(stored).sort()) {
      if (byUsername.has(username) || this.#fixture.some((user) => user.username === username)) continue;
      const added = fromStored(username, stored[username]);
      if (added) byUsername.set(username, added);
    }
    const bySub = new Map([...byUsername.values()].map((entry) => [entry.sub, entry]));
    return { byUsername, bySub, stored };
  }

  async #current(entry: Entry): Promise<User> {
    const revisions = this.#store.localRevisions;
    if (!revisions) return toUser(entry, await this.#store.readFields(changesOf(entry.sub)));
    if (this.#built?.revision !== revisions.fieldSets) this.#built = { revision: revisions.fieldSets, users: new Map() };
    const built = this.#built;
    const known = built.users.get(entry.sub);
    if (known) return known;
    const user = deepFreeze(toUser(entry, await this.#store.readFields(changesOf(entry.sub))));
    // Kept only if nothing was written while the store was read.
    if (this.#built === built && revisions.fieldSets === built.revision) built.users.set(entry.sub, user);
    return user;
  }

  async #dropClaimChanges(subs: readonly string[]): Promise<void> {
    for (const sub of new Set(subs)) {
      const names = Object.keys(await this.#store.readFields(changesOf(sub)));
      if (names.length > 0) await this.#store.deleteFields(changesOf(sub), names);
    }
  }

  /** Ends an account's sessions and revokes its grants (and their codes and tokens) wherever its issuers keep them. */
  async #endAccount(sub: string): Promise<void> {
    const stores = new Set([this.#store, ...this.#sessionStores.values()]);
    for (const store of stores) {
      const sessions = store.adapterFor('Session');
      for (const { id, payload } of await store.listRecords('Session')) {
        if (payload.accountId === sub) await sessions.destroy(id);
      }
      const grants = store.adapterFor('Grant');
      for (const { id, payload } of await store.listRecords('Grant')) {
        if (payload.accountId !== sub) continue;
        await grants.destroy(id);
        for (const model of GRANTABLE_MODELS) await store.adapterFor(model).revokeByGrantId(id);
      }
    }
  }
}

function changesOf(sub: string): string {
  return `user-claims:${sub}`;
}

function fromStored(username: string, json: string): Entry | undefined {
  const stored = JSON.parse(json) as StoredEntry | null;
  return stored ? entryOf(username, stored) : undefined;
}

function entryOf(username: string, stored: StoredEntry): Entry {
  return {
    sub: stored.sub,
    username,
    claims: stored.claims,
    roles: stored.roles,
    passwordDigest: Buffer.from(stored.password_sha256, 'base64url'),
  };
}

/** The user's entry with the stored claim changes applied; a stored `null` is a removed claim. */
function toUser(entry: Entry, changes: Record<string, string>): User {
  const claims = structuredClone(entry.claims);
  for (const [name, json] of Object.entries(changes)) {
    const value: unknown = JSON.parse(json);
    if (value === null) delete claims[name];
    else claims[name] = value;
  }
  return { sub: entry.sub, username: entry.username, claims, roles: [...entry.roles] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
