#!/usr/bin/env node
// Runs the built CLI when installed from the registry, or the TypeScript sources in a clone
// (Node 22.18+/24 strip types natively). Written so that any Node since 14 can parse it: an older
// Node gets one line (the check of src/node-version.ts), not a SyntaxError from a module it cannot load.
const MINIMUM_NODE = [22, 18];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
  console.error(
    `oidc-testbed needs Node.js ${MINIMUM_NODE.join('.')} or later (this is ${process.versions.node}); see README "Quick start"`,
  );
  process.exit(1);
}

const { existsSync } = await import('node:fs');
const { enableCompileCache } = await import('node:module');
// Node's on-disk cache of compiled modules (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE):
// every start after a machine's first skips compiling (and stripping the types of) ~300 modules.
// Enabled before the CLI is imported, so it covers all of them; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

const built = new URL('../dist/cli/main.js', import.meta.url);
const { main } = await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
if (process.exitCode !== 0) process.exit(process.exitCode);
