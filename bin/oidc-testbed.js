#!/usr/bin/env node
// Runs the built CLI when installed from the registry, or the TypeScript sources in a clone
// (Node 22.18+/24 strip types natively).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
if (process.exitCode !== 0) process.exit(process.exitCode);
