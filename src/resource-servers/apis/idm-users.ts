/**
 * Fixture users as ForgeRock IDM `managed/user` objects, and back: the field mapping, PUT and
 * PATCH semantics, and the subset of CREST `_queryFilter` the directory API understands.
 */
import type { User } from '../../store/user-directory.ts';

export type IdmUser = Record<string, unknown> & { _id: string; _rev: string; userName: string };

/** IDM field → OpenID Connect claim (a path into `claims`). */
const FIELDS: Readonly<Record<string, readonly [string] | readonly [string, string]>> = {
  givenName: ['given_name'],
  sn: ['family_name'],
  mail: ['email'],
  telephoneNumber: ['phone_number'],
  postalAddress: ['address', 'street_address'],
  city: ['address', 'locality'],
  postalCode: ['address', 'postal_code'],
  stateProvince: ['address', 'region'],
  country: ['address', 'country'],
};
const READ_ONLY = new Set(['_id', '_rev', 'userName', 'accountStatus']);
export const IDM_FIELDS = ['_id', '_rev', 'userName', 'accountStatus', ...Object.keys(FIELDS)];

/** A client mistake, rendered in IDM's error shape with status `code`. */
export class IdmError extends Error {
  readonly code: 400 | 404 | 415;
  constructor(code: 400 | 404 | 415, message: string) {
    super(message);
    this.name = 'IdmError';
    this.code = code;
  }
}

export function toIdmUser(user: User): IdmUser {
  const out: IdmUser = {
    _id: user.sub,
    // IDM's revision changes on every write; updated_at does too.
    _rev: String(user.claims.updated_at ?? 0),
    userName: user.username,
    accountStatus: 'active',
  };
  for (const [field, path] of Object.entries(FIELDS)) {
    const value = readPath(user.claims, path);
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** IDM field values (undefined removes) → claim changes for `UserDirectory.updateClaims`. */
function claimChanges(user: User, fields: Record<string, unknown>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  let address: Record<string, unknown> | undefined;
  for (const [field, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && typeof value !== 'string') throw new IdmError(400, `${field} must be a string`);
    const path = FIELDS[field];
    if (path.length === 1) {
      changes[path[0]] = value ?? null;
    } else {
      address ??= { ...(user.claims.address as Record<string, unknown> | undefined) };
      if (value === undefined || value === null) delete address[path[1]];
      else address[path[1]] = value;
    }
  }
  if (address) {
    const { formatted: _stale, ...parts } = address; // a formatted address would no longer match its parts
    changes.address = Object.keys(parts).length > 0 ? parts : null;
  }
  return changes;
}

/** IDM PUT replaces the object: writable fields absent from the body are removed. */
export function replaceChanges(user: User, body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw new IdmError(400, 'The request body must be a JSON object');
  const current = toIdmUser(user);
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (READ_ONLY.has(field)) {
      if (field !== '_rev' && value !== current[field]) throw new IdmError(400, `${field} is read-only and cannot be changed`);
      continue;
    }
    if (!Object.hasOwn(FIELDS, field)) throw new IdmError(400, unknownField(field));
  }
  for (const field of Object.keys(FIELDS)) fields[field] = (body as Record<string, unknown>)[field];
  return claimChanges(user, fields);
}

/** IDM PATCH: a JSON array of `{ operation: add | replace | remove, field: "/name", value }`. */
export function patchChanges(user: User, body: unknown): Record<string, unknown> {
  if (!Array.isArray(body) || body.length === 0)
    throw new IdmError(400, 'The request body must be a non-empty JSON array of patch operations');
  const fields: Record<string, unknown> = {};
  for (const operation of body as unknown[]) {
    if (!isObject(operation) || typeof operation.operation !== 'string' || typeof operation.field !== 'string') {
      throw new IdmError(400, 'Each patch operation needs an operation and a field');
    }
    const field = operation.field.replace(/^\//, '');
    if (READ_ONLY.has(field)) throw new IdmError(400, `${field} is read-only and cannot be changed`);
    if (!Object.hasOwn(FIELDS, field)) throw new IdmError(400, unknownField(operation.field));
    switch (operation.operation) {
      case 'add':
      case 'replace':
        if (!('value' in operation)) throw new IdmError(400, `The ${operation.operation} operation on ${operation.field} needs a value`);
        fields[field] = operation.value;
        break;
      case 'remove':
        fields[field] = undefined;
        break;
      default:
        throw new IdmError(400, `Patch operation ${operation.operation.slice(0, 20)} is not supported here (add, replace, remove)`);
    }
  }
  return claimChanges(user, fields);
}

/** `_fields=userName,mail`: those fields plus `_id` and `_rev`. */
export function selectFields(user: IdmUser, fields: string | undefined): Record<string, unknown> {
  if (!fields) return user;
  const wanted = new Set([
    '_id',
    '_rev',
    ...fields
      .split(',')
      .map((field) => field.trim().replace(/^\//, ''))
      .filter(Boolean),
  ]);
  return Object.fromEntries(Object.entries(user).filter(([field]) => wanted.has(field)));
}

function unknownField(field: string): string {
  return `Unknown field ${field.slice(0, 40)}; managed/user fields here are ${IDM_FIELDS.join(', ')}`;
}

function readPath(claims: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- _queryFilter (CREST query filter syntax, a subset) -------------------------------------

type Filter = (user: Record<string, unknown>) => boolean;

const OPERATORS: Record<string, (actual: unknown, expected: unknown) => boolean> = {
  eq: (a, e) => a === e,
  co: (a, e) => typeof a === 'string' && typeof e === 'string' && a.includes(e),
  sw: (a, e) => typeof a === 'string' && typeof e === 'string' && a.startsWith(e),
  gt: (a, e) => typeof a === typeof e && (a as number) > (e as number),
  ge: (a, e) => typeof a === typeof e && (a as number) >= (e as number),
  lt: (a, e) => typeof a === typeof e && (a as number) < (e as number),
  le: (a, e) => typeof a === typeof e && (a as number) <= (e as number),
};

/**
 * `true`, `false`, `/field op value` (op: eq co sw gt ge lt le; value: a JSON string, number or
 * boolean), `/field pr`, combined with `and`, `or`, `!` and parentheses. Throws IdmError(400).
 */
export function parseQueryFilter(text: string): Filter {
  const invalid = () =>
    new IdmError(400, `The value '${text.slice(0, 200)}' for parameter '_queryFilter' could not be parsed as a valid query filter`);
  const tokens = tokenize(text, invalid);
  let position = 0;
  const peek = () => tokens[position];
  const take = () => {
    const token = tokens[position++];
    if (token === undefined) throw invalid();
    return token;
  };

  const orExpression = (): Filter => {
    let left = andExpression();
    while (peek()?.word === 'or') {
      position += 1;
      const [a, b] = [left, andExpression()];
      left = (user) => a(user) || b(user);
    }
    return left;
  };
  const andExpression = (): Filter => {
    let left = unary();
    while (peek()?.word === 'and') {
      position += 1;
      const [a, b] = [left, unary()];
      left = (user) => a(user) && b(user);
    }
    return left;
  };
  const unary = (): Filter => {
    const token = take();
    if (token.word === '!') {
      const inner = unary();
      return (user) => !inner(user);
    }
    if (token.word === '(') {
      const inner = orExpression();
      if (take().word !== ')') throw invalid();
      return inner;
    }
    if (token.word === 'true' || token.word === 'false') {
      const constant = token.word === 'true';
      return () => constant;
    }
    if (token.word === undefined || ['and', 'or', ')'].includes(token.word)) throw invalid();
    const field = token.word.replace(/^\//, '');
    const operator = take().word;
    if (operator === 'pr') return (user) => user[field] !== undefined;
    const compare = operator ? OPERATORS[operator] : undefined;
    if (!compare) throw invalid();
    const expected = take();
    const value = expected.string ?? literal(expected.word, invalid);
    return (user) => compare(user[field], value);
  };

  const filter = orExpression();
  if (position !== tokens.length) throw invalid();
  return filter;
}

interface FilterToken {
  word?: string;
  string?: string;
}

function tokenize(text: string, invalid: () => IdmError): FilterToken[] {
  const tokens: FilterToken[] = [];
  const pattern = /\s*(?:("(?:[^"\\]|\\.)*")|([()!])|([^\s()"]+))/y;
  while (text.slice(pattern.lastIndex).trim()) {
    const match = pattern.exec(text);
    if (!match) throw invalid();
    if (match[1] === undefined) {
      tokens.push({ word: match[2] ?? match[3] });
      continue;
    }
    try {
      tokens.push({ string: JSON.parse(match[1]) as string });
    } catch {
      throw invalid();
    }
  }
  if (tokens.length === 0) throw invalid();
  return tokens;
}

function literal(word: string | undefined, invalid: () => IdmError): unknown {
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (word !== undefined && /^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  throw invalid();
}
