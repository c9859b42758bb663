import { createHash, timingSafeEqual } from 'node:crypto';
import type { FixtureUser } from '../fixtures/schema.ts';
import { MemoryStore } from './memory-store.ts';
import type { Store } from './store.ts';

/** A fixture user as the testbed serves it: `sub` resolved, claims as changed at run time. */
export interface User {
  sub: string;
  username: string;
  claims: Record<string, unknown>;
  roles: string[];
}

interface Entry {
  sub: string;
  username: string;
  claims: Record<string, unknown>;
  roles: readonly string[];
  passwordDigest: Buffer;
}

/**
 * The testbed's users: loaded from the fixture, looked up by the login page, the account lookup of
 * oidc-provider and the mock APIs (which may update claims, seen by later userinfo and ID tokens).
 *
 * Claim changes live in the issuer's store (one field set per user, a field per changed claim), and
 * every lookup reads them: with Redis, a change made through one replica is seen by all, and
 * survives restarts. Every method is therefore async. On a process-local store (memory) a user is
 * built once and kept until the store's field-set counter moves (any write in this process), so
 * repeated lookups cost a map read; users handed out are then shared, so they are frozen.
 */
export class UserDirectory {
  readonly #bySub = new Map<string, Entry>();
  readonly #byUsername = new Map<string, Entry>();
  readonly #changes: Store;
  readonly #built = new Map<string, { revision: number; user: User }>();

  /** `changes`: where claim changes are kept (the issuer's store); a private in-memory one by default. */
  constructor(users: readonly FixtureUser[], changes: Store = new MemoryStore()) {
    this.#changes = changes;
    for (const user of users) {
      const entry: Entry = {
        sub: user.sub ?? user.username,
        username: user.username,
        claims: structuredClone(user.claims),
        roles: [...user.roles],
        passwordDigest: digest(user.password),
      };
      this.#bySub.set(entry.sub, entry);
      this.#byUsername.set(entry.username, entry);
    }
  }

  async findBySub(sub: string): Promise<User | undefined> {
    const entry = this.#bySub.get(sub);
    return entry ? this.#current(entry) : undefined;
  }

  /** A `login_hint` may name a user by username or by sub. */
  async findByHint(hint: string | undefined): Promise<User | undefined> {
    if (!hint) return undefined;
    const entry = this.#byUsername.get(hint) ?? this.#bySub.get(hint);
    return entry ? this.#current(entry) : undefined;
  }

  /** Returns the user when the password matches (compared in constant time). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const entry = this.#byUsername.get(username);
    const candidate = digest(password);
    const expected = entry?.passwordDigest ?? candidate.map((byte) => byte ^ 0xff);
    return timingSafeEqual(candidate, expected) && entry ? this.#current(entry) : undefined;
  }

  async list(): Promise<User[]> {
    return Promise.all([...this.#bySub.values()].map((entry) => this.#current(entry)));
  }

  /**
   * Merges claim changes into a user and returns the user as changed; `null` removes a claim.
   * `sub` cannot change. Concurrent changes to different claims (from any replica) all apply.
   */
  async updateClaims(sub: string, changes: Record<string, unknown>): Promise<User | undefined> {
    const entry = this.#bySub.get(sub);
    if (!entry) return undefined;
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(changes)) {
      if (name !== 'sub' && value !== undefined) fields[name] = JSON.stringify(value);
    }
    fields.updated_at = JSON.stringify(Math.floor(Date.now() / 1000));
    return toUser(entry, await this.#changes.writeFields(changesOf(sub), fields));
  }

  async #current(entry: Entry): Promise<User> {
    const revisions = this.#changes.localRevisions;
    if (!revisions) return toUser(entry, await this.#changes.readFields(changesOf(entry.sub)));
    const built = this.#built.get(entry.sub);
    if (built?.revision === revisions.fieldSets) return built.user;
    const revision = revisions.fieldSets; // read before the store: a write meanwhile makes the next lookup rebuild
    const user = deepFreeze(toUser(entry, await this.#changes.readFields(changesOf(entry.sub))));
    this.#built.set(entry.sub, { revision, user });
    return user;
  }
}

function changesOf(sub: string): string {
  return `user-claims:${sub}`;
}

/** The fixture user with the stored changes applied; a stored `null` is a removed claim. */
function toUser(entry: Entry, changes: Record<string, string>): User {
  const claims = structuredClone(entry.claims);
  for (const [name, json] of Object.entries(changes)) {
    const value: unknown = JSON.parse(json);
    if (value === null) delete claims[name];
    else claims[name] = value;
  }
  return { sub: entry.sub, username: entry.username, claims, roles: [...entry.roles] };
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
