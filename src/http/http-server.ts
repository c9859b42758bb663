import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: Server;
  /** The port actually bound (the chosen one when asked for 0). */
  port: number;
  /** Hands the requests to `handler` from now on (until then they are answered "starting"). */
  serve(handler: RequestListener): void;
  /** Answers "stopping" from now on, stops listening and drops every open connection, keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Listens on `port` (0: any free one) and `host`; rejects with the listen error (EADDRINUSE, …).
 * The socket is bound before the server is ready (its port is part of the issuer URL the rest is
 * built from), so every request is answered at every moment: until `serve()` with 503 "starting",
 * after `close()` began with 503 "stopping" — never left without an answer. Probes that poll a
 * starting testbed get a status they retry (RFC 9110 §15.6.4, `Retry-After`), never a hang.
 */
export async function listenHttp(port: number, host: string, handler?: RequestListener): Promise<RunningServer> {
  let current: RequestListener = handler ?? unavailable('oidc-testbed is starting');
  const server = createServer((request, response) => current(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        current = unavailable('oidc-testbed is stopping');
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function unavailable(description: string): RequestListener {
  const body = JSON.stringify({ error: 'temporarily_unavailable', error_description: description });
  return (request, response: ServerResponse) => {
    response.writeHead(503, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'Retry-After': '1',
      Connection: 'close',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    // A body the client is still sending is not read: drop it with the connection.
    request.resume();
  };
}
