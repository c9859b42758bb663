import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  server: Server;
  /** The port actually bound (the chosen one when asked for 0). */
  port: number;
  /** Stops listening and drops every open connection, keep-alive ones included. */
  close(): Promise<void>;
}

/** Listens on `port` (0: any free one) and `host`; rejects with the listen error (EADDRINUSE, …). */
export async function listenHttp(port: number, host: string, handler?: RequestListener): Promise<RunningServer> {
  const server = createServer(handler);
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
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
