/** Writes docs/scenarios.md from the scenario catalog (test/scenarios/docs-table.test.ts fails when it is stale). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenariosDocument } from '../src/scenarios/document.ts';

writeFileSync(fileURLToPath(new URL('../docs/scenarios.md', import.meta.url)), scenariosDocument());
