/**
 * The folders of src/ import one way: each layer may import the layers below it and itself, never
 * one above it or a sibling of its own layer. A newcomer reads the tree bottom-up; a scenario,
 * control or API feature that needs something from above has put it in the wrong place.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Bottom first. A unit is a folder of src/ or a module at its root. */
const LAYERS: readonly (readonly string[])[] = [
  ['types', 'node-version.ts', 'log.ts', 'endpoints.ts', 'clock.ts', 'jest-realm.ts', 'http', 'jose'], // leaves: nothing of ours
  ['fixtures'], // fixture → validated config
  ['store'],
  ['provider'], // the engine configured, its extensions, grants, pages and adaptations
  ['control'],
  ['issuers'], // one issuer assembled, the set, path dispatch
  ['scenarios'], // issuers that break one rule on purpose, and their verdicts
  ['resource-servers'],
  ['testbed.ts'],
  ['conformance'], // a whole relying party driven through a plan of scenarios, against a testbed it starts
  ['cli', 'index.ts'],
];

const layerOf = new Map(LAYERS.flatMap((units, index) => units.map((unit) => [unit, index] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

const unitOf = (file: string) => relative(SRC, file).split(sep)[0];

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1] ?? match[2]));
}

describe('src/ layers', () => {
  const files = sourceFiles(SRC);

  it('places every unit of src/ in a layer', () => {
    const units = new Set(files.map(unitOf));
    expect([...units].filter((unit) => !layerOf.has(unit))).toEqual([]);
  });

  it('imports only downwards or within a unit', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const target of importsOf(file)) {
        const to = unitOf(target);
        if (to === from) continue;
        if (!(layerOf.get(to)! < layerOf.get(from)!)) upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('finds the imports it checks (the check itself works)', () => {
    const testbed = importsOf(join(SRC, 'testbed.ts')).map((target) => relative(SRC, target));
    expect(testbed).toEqual(expect.arrayContaining(['issuers/dispatch.ts', join('http', 'error-answers.ts')]));
  });
});
