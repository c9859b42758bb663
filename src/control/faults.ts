/**
 * An issuer's fault rules (issue 20, item 4): the fixture's, in force from the start, and those a
 * test adds at run time. Rules live in the issuer's control settings (src/control/settings.ts,
 * fields `fault:<id>`), so a rule added through one Redis replica is in force on the next request
 * another serves; a fixture rule is never written there (every replica has it from its fixture)
 * unless it is removed, which writes a tombstone in its field. Each rule counts the requests it
 * matches in a field of a document of its own (`fault-hits`), with the store's atomic increment:
 * with `after: 2, times: 1` exactly the third matching request is hit, whichever replica serves it.
 */
import { randomBytes } from 'node:crypto';
import { type FaultRule, type FaultRuleInput, type FixtureFault, faultSchemas } from '../fixtures/fault-rule.ts';
import { FixtureError, formatPath, validateEntry } from '../fixtures/load.ts';
import type { Store } from '../store/store.ts';
import type { ControlSettings, SettingsSnapshot } from './settings.ts';

export type { FaultEndpoint, FaultRule, FaultRuleInput } from '../fixtures/fault-rule.ts';

/** A rule in force: as validated, with its id. */
export type ActiveFault = FaultRule & { id: string };

/** A rule as listed: the rule, and how many requests it has hit so far. */
export type FaultListing = ActiveFault & { hits: number };

/** What `faults.add()` gives back. */
export interface FaultHandle {
  readonly id: string;
  /** Requests this rule has hit so far (0 once it is removed). */
  hits(): Promise<number>;
  /** Takes the rule out of force; false when it was no longer there. */
  remove(): Promise<boolean>;
}

/** A rule that cannot be added: 400 for a bad rule (the message names the field), 409 for an id in use. */
export class FaultRuleError extends Error {
  readonly status: 400 | 409;

  constructor(status: 400 | 409, message: string) {
    super(message);
    this.name = 'FaultRuleError';
    this.status = status;
  }
}

const FIELD_PREFIX = 'fault:';
const HITS_DOCUMENT = 'fault-hits';
/** The field of a fixture rule taken out of force at run time. */
const REMOVED = 'removed';

const isFaultField = (field: string) => field.startsWith(FIELD_PREFIX);
const fieldOf = (id: string) => `${FIELD_PREFIX}${id}`;

/** A run-time rule as its field holds it: when it was added orders it among the others. */
interface StoredFault {
  rule: ActiveFault;
  added: number;
}

const NONE: readonly ActiveFault[] = Object.freeze([]);

export class Faults {
  readonly #settings: ControlSettings;
  readonly #store: Store;
  readonly #fixture: readonly ActiveFault[];
  /** The rules of a settings snapshot, parsed once per snapshot (the memory store keeps one until a write). */
  readonly #rulesOf = new WeakMap<SettingsSnapshot, readonly ActiveFault[]>();

  constructor(options: { settings: ControlSettings; store: Store; fixture: readonly FixtureFault[] }) {
    this.#settings = options.settings;
    this.#store = options.store;
    this.#fixture = Object.freeze([...options.fixture]);
  }

  /**
   * The rules in force in `snapshot`, in the order they are tried: the fixture's (as listed), then
   * those added at run time (oldest first).
   */
  rulesIn(snapshot: SettingsSnapshot): readonly ActiveFault[] {
    const cached = this.#rulesOf.get(snapshot);
    if (cached) return cached;
    const fields = Object.keys(snapshot).filter(isFaultField);
    if (fields.length === 0 && this.#fixture.length === 0) return NONE;
    const added: StoredFault[] = [];
    for (const field of fields) {
      const value = snapshot[field];
      if (value === REMOVED) continue;
      const stored = JSON.parse(value) as StoredFault;
      added.push(stored);
    }
    added.sort((a, b) => a.added - b.added || a.rule.id.localeCompare(b.rule.id));
    const rules = Object.freeze([
      ...this.#fixture.filter((rule) => snapshot[fieldOf(rule.id)] === undefined),
      ...added.map((stored) => stored.rule),
    ]);
    this.#rulesOf.set(snapshot, rules);
    return rules;
  }

  /** The rules in force now (outside a request: the mock APIs). */
  async current(): Promise<readonly ActiveFault[]> {
    return this.rulesIn(await this.#settings.current());
  }

  /**
   * Counts a request `rule` matched (atomically, across replicas) and tells whether the rule hits
   * it: the n-th matching request is hit when `after < n <= after + times`.
   */
  async hitsRequest(rule: ActiveFault): Promise<boolean> {
    const n = await this.#store.incrementField(HITS_DOCUMENT, rule.id);
    return n > rule.after && (rule.times === undefined || n <= rule.after + rule.times);
  }

  /** Validates `input` (throws FaultRuleError naming the field) and puts it in force after the rules there are. */
  async add(input: FaultRuleInput | unknown): Promise<FaultHandle> {
    const rule = parseRule(input);
    const id = rule.id ?? randomBytes(6).toString('hex');
    const active: ActiveFault = { ...rule, id };
    if (this.rulesIn(await this.#settings.current()).some((existing) => existing.id === id)) {
      throw new FaultRuleError(409, `id: a fault "${id}" is in force already; remove it first or choose another id`);
    }
    // A fresh count: a rule that had this id before (removed since) leaves none behind it.
    await this.#store.deleteFields(HITS_DOCUMENT, [id]);
    const stored: StoredFault = { rule: active, added: Date.now() };
    await this.#settings.write({ [fieldOf(id)]: JSON.stringify(stored) });
    return this.#handle(id);
  }

  /** The rules in force, in the order they are tried, each with its hits. */
  async list(): Promise<FaultListing[]> {
    const rules = this.rulesIn(await this.#settings.current());
    const counts = rules.length > 0 ? await this.#store.readFields(HITS_DOCUMENT) : {};
    return rules.map((rule) => ({ ...rule, hits: hitsOf(rule, counts[rule.id]) }));
  }

  /** One rule in force, with its hits. */
  async get(id: string): Promise<FaultListing | undefined> {
    return (await this.list()).find((rule) => rule.id === id);
  }

  /** Requests the rule `id` has hit so far (0 for a rule not in force). */
  async hits(id: string): Promise<number> {
    return (await this.get(id))?.hits ?? 0;
  }

  /** Takes one rule out of force; false when no rule `id` is in force. */
  async remove(id: string): Promise<boolean> {
    const inForce = this.rulesIn(await this.#settings.current()).some((rule) => rule.id === id);
    if (!inForce) return false;
    await this.#takeOut([id]);
    return true;
  }

  /** Takes every rule out of force, the fixture's too (until `reset`). */
  async clear(): Promise<void> {
    await this.#takeOut(this.rulesIn(await this.#settings.current()).map((rule) => rule.id));
  }

  /** Back to the fixture: rules added at run time are gone, the fixture's are in force again, every count is 0. */
  async reset(): Promise<void> {
    await this.#settings.clear(isFaultField);
    const counted = Object.keys(await this.#store.readFields(HITS_DOCUMENT));
    if (counted.length > 0) await this.#store.deleteFields(HITS_DOCUMENT, counted);
  }

  async #takeOut(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const fixtureIds = new Set(this.#fixture.map((rule) => rule.id));
    const tombstones = ids.filter((id) => fixtureIds.has(id));
    const others = ids.filter((id) => !fixtureIds.has(id));
    if (tombstones.length > 0) await this.#settings.write(Object.fromEntries(tombstones.map((id) => [fieldOf(id), REMOVED])));
    if (others.length > 0) await this.#settings.remove(others.map(fieldOf));
    await this.#store.deleteFields(HITS_DOCUMENT, ids);
  }

  #handle(id: string): FaultHandle {
    return { id, hits: () => this.hits(id), remove: () => this.remove(id) };
  }
}

/** Requests a rule hit, from the number it matched. */
function hitsOf(rule: ActiveFault, counted: string | undefined): number {
  const matched = Number(counted ?? 0);
  const hit = Math.max(0, matched - rule.after);
  return rule.times === undefined ? hit : Math.min(hit, rule.times);
}

function parseRule(input: unknown): FaultRule {
  try {
    return validateEntry(faultSchemas().faultRuleSchema, input, 'fault rule');
  } catch (error) {
    if (!(error instanceof FixtureError)) throw error;
    const described = error.problems.map(({ path, message }) => `${formatPath(path) || 'the rule'}: ${message}`);
    throw new FaultRuleError(400, described.join('; '));
  }
}
