/**
 * What every example is configured by: the environment variables the library's own examples read
 * (ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET, BASE_URL, SECRET) plus AUDIENCE and REDIS_URL. Without
 * them an example talks to `oidc-testbed start` on its default fixture.
 */
import type { Express } from 'express';

export interface ExampleSettings {
  issuerBaseURL: string;
  clientID: string;
  /** Needed by the examples whose response_type includes `code`. */
  clientSecret?: string;
  /** Where the example app is reached; its port is the one `npm run example` listens on. */
  baseURL: string;
  /** Encrypts the session cookie. */
  secret: string;
  /** The API the login asks an access token for (Auth0's `audience`; the testbed takes it as RFC 8707 `resource`). */
  audience: string;
  redisUrl: string;
  /** Prefix of the Redis keys of the session-store examples. */
  redisPrefix: string;
  /**
   * Where an API named by its audience answers. An audience is its own URL for `oidc-testbed start`
   * (the profile API is http://localhost:9401/); a test that runs the APIs on other ports maps them.
   */
  apiUrls: Readonly<Record<string, string>>;
}

export interface ExampleApp {
  app: Express;
  /** Lets go of what the app holds open (its Redis connection). */
  close(): Promise<void>;
}

export interface Example {
  name: string;
  /** What the example shows, in one line (the README table, `npm run example` without a name). */
  shows: string;
  /** The settings this example needs other than the common defaults: its fixture client. */
  defaults?: Partial<ExampleSettings>;
  create(settings: ExampleSettings): Promise<ExampleApp>;
}

/** `oidc-testbed start`'s default fixture: node-openid-client on http://localhost:3000. */
export const COMMON_DEFAULTS: ExampleSettings = {
  issuerBaseURL: 'http://localhost:9400',
  clientID: 'node-openid-client',
  clientSecret: 'password',
  baseURL: 'http://localhost:3000',
  secret: 'a-long-random-session-secret-for-the-examples',
  audience: 'http://localhost:9401/',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'express-openid-connect-example:',
  apiUrls: {},
};

const VARIABLES = {
  ISSUER_BASE_URL: 'issuerBaseURL',
  CLIENT_ID: 'clientID',
  CLIENT_SECRET: 'clientSecret',
  BASE_URL: 'baseURL',
  SECRET: 'secret',
  AUDIENCE: 'audience',
  REDIS_URL: 'redisUrl',
} as const satisfies Record<string, keyof ExampleSettings>;

/** The example's settings: the common defaults, then the example's own, then the environment. */
export function settingsFrom(example: Example, environment: NodeJS.ProcessEnv): ExampleSettings {
  const settings: ExampleSettings = { ...COMMON_DEFAULTS, ...example.defaults };
  for (const [variable, key] of Object.entries(VARIABLES)) {
    const value = environment[variable]?.trim();
    if (value) settings[key] = value;
  }
  return settings;
}

/** The settings `auth()` takes from every example. */
export function authBasics(settings: ExampleSettings) {
  const { issuerBaseURL, baseURL, clientID, clientSecret, secret } = settings;
  return { issuerBaseURL, baseURL, clientID, clientSecret, secret };
}

/** Where the API with this audience answers. */
export function apiUrl(settings: ExampleSettings, audience: string): string {
  return settings.apiUrls[audience] ?? audience;
}

/** For the examples that hold nothing open. */
export async function plainApp(app: Express): Promise<ExampleApp> {
  return { app, close: async () => {} };
}
