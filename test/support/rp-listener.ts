/**
 * An RP endpoint that the testbed calls back (back-channel logout, CIBA ping): a listener of the
 * test on a free loopback port, started and stopped with the enclosing `describe`, recording every
 * request it answers.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from '@jest/globals';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RpListener {
  /** `http://localhost:<port>` (inside tests and `useTestbed` option functions). */
  origin(): string;
  readonly received: readonly ReceivedRequest[];
  /** Resolves once `count` requests in all have arrived, with all of them. */
  receivedCount(count: number): Promise<readonly ReceivedRequest[]>;
}

export function useRpListener(answer: { status: number; headers?: Record<string, string> } = { status: 204 }): RpListener {
  const received: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  let server: Server | undefined;
  let origin: string | undefined;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => { body += chunk; });
      request.on('end', () => {
        received.push({ path: request.url!, headers: request.headers, body });
        response.writeHead(answer.status, answer.headers).end();
        waiters.splice(0).forEach((wake) => wake());
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  return {
    origin: () => {
      if (!origin) throw new Error('the RP listener is not started (use it inside a test or a useTestbed option function)');
      return origin;
    },
    received,
    async receivedCount(count) {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received;
    },
  };
}
