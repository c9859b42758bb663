#!/usr/bin/env node
// Runs the built CLI when installed from the registry, or the TypeScript sources in a clone
// (Node 22.18+/24 strip types natively).
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

// Node's on-disk cache of compiled modules (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE):
// every start after a machine's first skips compiling (and stripping the types of) ~300 modules.
// Enabled before the CLI is imported, so it covers all of them; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

const built = new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
if (process.exitCode !== 0) process.exit(process.exitCode);
