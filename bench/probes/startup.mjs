/**
 * One fresh process's start-up costs, timed inside it with performance.now() and printed as one
 * JSON line. bench/lib/startup.ts copies this file into the published package's directory and runs
 * it there, so that `import('oidc-testbed')` resolves as in a project that installed the package
 * (the package's own name resolves through its `exports`; its dependencies through its node_modules).
 *
 *   node startup.mjs import <specifier> [<first>]  → {"ms": <import time>} (after an untimed import of <first>)
 *   node startup.mjs start-testbed '<options>' <n>  → {"importMs", "ms": [n startTestbed(options) calls]}
 *   node startup.mjs mock-server <alg> <n>          → {"importMs", "ms": [n OAuth2Server starts]}
 *
 * Each start is followed, untimed, by one GET of its discovery document (it must answer 200) and
 * its stop(). No imports of the bench's own modules: this file runs from a scratch directory. Plain
 * JavaScript: a TypeScript file would load Node's type stripper into the process it measures.
 */
import { get } from 'node:http';

const [mode, arg, extra] = process.argv.slice(2);

/** @returns [what `work` resolved to, its milliseconds] */
const timed = async (work) => {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
};

function discoveryStatus(url) {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** `start` resolves to { discovery: URL, stop() }. */
async function repeat(n, start) {
  const ms = [];
  for (let i = 0; i < n; i += 1) {
    const [server, took] = await timed(start);
    ms.push(took);
    const status = await discoveryStatus(server.discovery);
    await server.stop();
    if (status !== 200) throw new Error(`start ${i + 1}: discovery answered ${status}`);
  }
  return ms;
}

if (mode === 'import') {
  const first = extra;
  if (first) await import(first);
  const [, ms] = await timed(() => import(arg));
  console.log(JSON.stringify({ ms }));
} else if (mode === 'start-testbed') {
  const [{ startTestbed }, importMs] = await timed(() => import('oidc-testbed'));
  const options = JSON.parse(arg);
  const ms = await repeat(Number(extra), async () => {
    const testbed = await startTestbed(options);
    return { discovery: testbed.urls.discovery, stop: () => testbed.stop() };
  });
  console.log(JSON.stringify({ importMs, ms }));
} else if (mode === 'mock-server') {
  const [{ OAuth2Server }, importMs] = await timed(() => import('oauth2-mock-server'));
  const ms = await repeat(Number(extra), async () => {
    const server = new OAuth2Server();
    await server.issuer.keys.generate(arg);
    await server.start(0, '127.0.0.1');
    return { discovery: `${server.issuer.url}/.well-known/openid-configuration`, stop: () => server.stop() };
  });
  console.log(JSON.stringify({ importMs, ms }));
} else {
  console.error('usage: node startup.mjs import <specifier> [<first>] | start-testbed <options JSON> <n> | mock-server <alg> <n>');
  process.exit(2);
}
