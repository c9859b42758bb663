/** Cold-start reference: node:http answering a fixed discovery document. */
import { createServer } from 'node:http';

const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"issuer":"http://localhost"}');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
