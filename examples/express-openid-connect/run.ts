/**
 * `npm run example -- <name>`: runs one example on BASE_URL's port, configured by the environment
 * (ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET, BASE_URL, SECRET, AUDIENCE, REDIS_URL; defaults for
 * `oidc-testbed start`). Without a name it lists the examples.
 */
import { once } from 'node:events';
import { EXAMPLES, exampleNamed } from './index.ts';
import { settingsFrom } from './settings.ts';

const name = process.argv[2]?.replace(/\.[jt]s$/, '');
const example = name ? exampleNamed(name) : undefined;
if (!example) {
  console.error(`${name ? `No example "${name}". ` : ''}Usage: npm run example -- <name>\n`);
  for (const { name: each, shows } of EXAMPLES) console.error(`  ${each.padEnd(22)} ${shows}`);
  process.exit(name ? 1 : 0);
}

const settings = settingsFrom(example, process.env);
const { app, close } = await example.create(settings);
const base = new URL(settings.baseURL);
const server = app.listen(Number(base.port || (base.protocol === 'https:' ? 443 : 80)));
await once(server, 'listening');
console.log(`${example.name} at ${settings.baseURL} (issuer ${settings.issuerBaseURL}, client ${settings.clientID})`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void close();
  });
}
