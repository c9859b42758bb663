/** docs/scenarios.md is the catalog as generated: a scenario added or changed without `npm run docs:scenarios` fails here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { scenarioCatalog } from '../../src/index.ts';
import { scenariosDocument } from '../../src/scenarios/document.ts';

describe('docs/scenarios.md', () => {
  it('is the generated table of the catalog', () => {
    const document = readFileSync(new URL('../../docs/scenarios.md', import.meta.url), 'utf8');
    expect(document).toBe(scenariosDocument());
    for (const { name } of scenarioCatalog()) expect(document).toContain(`| \`${name}\` |`);
  });
});
