/**
 * The oauth2-mock-server peer with its defaults (one RS256 key), as Node test suites use it.
 *
 *   node bench/servers/oauth2-mock-server.ts [--alg RS256]   → prints "listening <port>"
 */
import { parseArgs } from 'node:util';
import { OAuth2Server } from 'oauth2-mock-server';

const { values } = parseArgs({ options: { alg: { type: 'string', default: 'RS256' } } });
const server = new OAuth2Server();
await server.issuer.keys.generate(values.alg);
await server.start(0, '127.0.0.1');
process.stdout.write(`listening ${server.address().port}\n`);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
