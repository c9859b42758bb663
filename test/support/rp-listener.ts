/**
 * An RP endpoint that the testbed calls back (back-channel logout, CIBA ping): a listener of the
 * test on a free loopback port, started and stopped with the enclosing `describe`, recording every
 * request it answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { useAppServer } from './app-server.ts';

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
  const server = useAppServer();
  server.serve((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url!, headers: request.headers, body });
      response.writeHead(answer.status, answer.headers).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    origin: server.origin,
    received,
    async receivedCount(count) {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received;
    },
  };
}
