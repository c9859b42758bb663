#!/usr/bin/env node
// A tiny round-robin HTTP load balancer for compose.replicas.yaml: every request goes to the next
// replica, so a login, its code exchange and a refresh land on different replicas and only a
// shared Redis (and shared keys) make them work. Not for production use.
//
//   node lb.mjs --ports 9400,9401,9402 --backends testbed-a,testbed-b
//
// Listens on each port and forwards to the same port of each backend. The Host header is passed
// through unchanged, so the IdP builds its URLs for the name the client used.
import { createServer, request } from 'node:http';
import { parseArgs } from 'node:util';

// Positionals are ignored: the image's CMD (`start`) follows this entrypoint unless overridden.
const { values } = parseArgs({ options: { ports: { type: 'string' }, backends: { type: 'string' } }, allowPositionals: true });
const ports = (values.ports ?? process.env.LB_PORTS ?? '').split(',').filter(Boolean).map(Number);
const backends = (values.backends ?? process.env.LB_BACKENDS ?? '').split(',').filter(Boolean);
if (ports.length === 0 || ports.some((port) => !Number.isInteger(port)) || backends.length === 0) {
  console.error('lb: usage: node lb.mjs --ports 9400,9401 --backends host-a,host-b');
  process.exit(2);
}

let next = 0;
const servers = ports.map((port) =>
  createServer((incoming, outgoing) => {
    const backend = backends[next++ % backends.length];
    const forwarded = request(
      {
        host: backend,
        port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, 'x-forwarded-for': incoming.socket.remoteAddress ?? '' },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      if (outgoing.headersSent) return outgoing.destroy();
      outgoing.writeHead(502, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ error: 'bad_gateway', error_description: `${backend}:${port} ${error.message}` }));
    });
    incoming.pipe(forwarded);
  }).listen(port, '0.0.0.0'),
);

console.error(`lb: ${ports.join(', ')} → ${backends.join(', ')} (round robin)`);
const stop = () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
