/**
 * Writes docs/fixture-reference.md and fixtures/schema.json from the fixture schema
 * (test/fixtures/reference.test.ts fails when either is stale). `npm run docs` runs it.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixtureJsonSchemaText, fixtureReference } from '../src/fixtures/reference.ts';

writeFileSync(fileURLToPath(new URL('../fixtures/schema.json', import.meta.url)), fixtureJsonSchemaText());
writeFileSync(fileURLToPath(new URL('../docs/fixture-reference.md', import.meta.url)), fixtureReference());
