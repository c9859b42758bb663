/**
 * `oidc-testbed/jest`, for jest's `setupFiles` (`setupFiles: ['oidc-testbed/jest']`).
 *
 * Jest runs each test file in a vm context but hands it the outer realm's `structuredClone`, whose
 * results are objects of the outer realm (jestjs/jest#14074). Code loaded inside the context that
 * checks `value.constructor === Object` then rejects them: oidc-provider clones static client
 * metadata that way and refuses every client `jwks` as "client JSON Web Key Set is invalid".
 * Plain Node, vitest (threads/forks) and node:test are unaffected, and there this does nothing.
 * This re-homes the plain objects and arrays of each clone in the test context's realm.
 *
 * A leaf with no imports, so that it loads as a setup file however jest loads modules.
 */
const outerClone = globalThis.structuredClone;
const OUTER_OBJECT = Object.getPrototypeOf(outerClone({})) as object;
const OUTER_ARRAY = Object.getPrototypeOf(outerClone([])) as object;

function adopt(value: unknown, seen: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== OUTER_OBJECT && prototype !== OUTER_ARRAY) return value;
  if (seen.has(value)) return seen.get(value);
  const copy: Record<string, unknown> | unknown[] = prototype === OUTER_ARRAY ? [] : {};
  seen.set(value, copy);
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: adopt((value as Record<string, unknown>)[key], seen),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

if (OUTER_OBJECT !== Object.prototype) {
  globalThis.structuredClone = ((value: unknown, options?: StructuredSerializeOptions) =>
    adopt(outerClone(value, options), new Map())) as typeof structuredClone;
}
