/**
 * A relying-party app of the test (an express-openid-connect example, an Auth.js or Passport app,
 * a page for a browser library) on a loopback port 0. It listens before the testbed starts, so the
 * fixture can name its redirect URIs, and is handed its request handler once the testbed is up
 * (the app needs the issuer URL).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from '@jest/globals';
import { parse } from 'yaml';
import { DEFAULT_FIXTURE_PATH, type FixtureInput } from '../../src/index.ts';

export interface AppServer {
  /** `http://localhost:<port>` (inside tests and `useTestbed` option functions). */
  origin(): string;
  /** Sets the handler of every request from now on. */
  serve(handler: RequestListener): void;
}

export function useAppServer(): AppServer {
  let server: Server | undefined;
  let origin: string | undefined;
  let handler: RequestListener = (_request, response) => {
    response.writeHead(503, { 'content-type': 'text/plain' }).end('the app is not ready');
  };
  beforeAll(async () => {
    server = createServer((request, response) => handler(request, response));
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
      if (!origin) throw new Error('the app server is not started (use it inside a test or a useTestbed option function)');
      return origin;
    },
    serve: (next) => {
      handler = next;
    },
  };
}

/** The demo RPs' origins in the default fixture's client URIs (the ForgeRock sample, web-app). */
const DEMO_RP_ORIGINS = ['http://localhost:3000', 'http://localhost:3001'];

function moved(value: unknown, from: readonly string[], origin: string): unknown {
  if (typeof value === 'string') {
    const old = from.find((each) => value === each || value.startsWith(`${each}/`));
    return old ? `${origin}${value.slice(old.length)}` : value;
  }
  if (Array.isArray(value)) return value.map((each) => moved(each, from, origin));
  return value;
}

/**
 * The default fixture with every client URI (redirect, post-logout and back-channel logout URIs)
 * on the `from` origins — by default the demo RPs' http://localhost:3000 and :3001 — moved to
 * `origin`: its clients and users exactly as `oidc-testbed start` serves them, for an app on a
 * test port.
 */
export function defaultFixtureAt(origin: string, from: readonly string[] = DEMO_RP_ORIGINS): FixtureInput {
  const fixture = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as FixtureInput & { clients: Array<Record<string, unknown>> };
  const clients = fixture.clients.map((entry) =>
    Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, moved(value, from, origin)])),
  );
  return { ...fixture, clients } as FixtureInput;
}
