import { timingSafeEqual, createHash } from 'node:crypto';
import type { FixtureUser } from '../fixtures/schema.ts';

/** A fixture user as the testbed serves it: `sub` resolved, claims mutable at run time. */
export interface User {
  sub: string;
  username: string;
  claims: Record<string, unknown>;
  roles: string[];
}

/**
 * The testbed's users: loaded from the fixture, looked up by the login page, the account lookup of
 * oidc-provider and the mock APIs (which may update claims, seen by later userinfo and ID tokens).
 */
export class UserDirectory {
  readonly #bySub = new Map<string, User>();
  readonly #byUsername = new Map<string, { user: User; passwordDigest: Buffer }>();

  constructor(users: readonly FixtureUser[]) {
    for (const entry of users) {
      const user: User = {
        sub: entry.sub ?? entry.username,
        username: entry.username,
        claims: structuredClone(entry.claims),
        roles: [...entry.roles],
      };
      this.#bySub.set(user.sub, user);
      this.#byUsername.set(entry.username, { user, passwordDigest: digest(entry.password) });
    }
  }

  findBySub(sub: string): User | undefined {
    return this.#bySub.get(sub);
  }

  /** A `login_hint` may name a user by username or by sub. */
  findByHint(hint: string | undefined): User | undefined {
    if (!hint) return undefined;
    return this.#byUsername.get(hint)?.user ?? this.#bySub.get(hint);
  }

  /** Returns the user when the password matches (compared in constant time). */
  authenticate(username: string, password: string): User | undefined {
    const entry = this.#byUsername.get(username);
    const candidate = digest(password);
    const expected = entry?.passwordDigest ?? candidate.map((byte) => byte ^ 0xff);
    return timingSafeEqual(candidate, expected) && entry ? entry.user : undefined;
  }

  list(): User[] {
    return [...this.#bySub.values()];
  }

  /** Merges claim changes into a user; `null` removes a claim. `sub` cannot change. */
  updateClaims(sub: string, changes: Record<string, unknown>): User | undefined {
    const user = this.#bySub.get(sub);
    if (!user) return undefined;
    for (const [name, value] of Object.entries(changes)) {
      if (name === 'sub') continue;
      if (value === null) delete user.claims[name];
      else user.claims[name] = value;
    }
    user.claims.updated_at = Math.floor(Date.now() / 1000);
    return user;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
