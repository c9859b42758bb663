/**
 * Container configuration: `oidc-testbed start` settings read from environment variables. Every
 * variable is checked here, so a mistake stops the start with one line that names the variable;
 * command-line flags win over these (main.ts merges them).
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseFixture } from '../fixtures/load.ts';
import type { Fixture } from '../fixtures/schema.ts';
import type { LogLevel } from '../log.ts';
import { parseRedisUrl, RedisUrlError } from '../store/redis-url.ts';

/** The documented mount point of a fixture in the container image; read when present. */
export const FIXTURE_MOUNT_PATH = '/config/fixture.yaml';

export interface EnvironmentSettings {
  /** OIDC_TESTBED_FIXTURE: the whole fixture inline (JSON or YAML), already validated. */
  fixture?: Fixture;
  /** OIDC_TESTBED_FIXTURE_PATH, or FIXTURE_MOUNT_PATH when that file exists. */
  fixtureFile?: string;
  /** OIDC_TESTBED_ISSUER: the public issuer URL (what browsers and tokens see). */
  issuer?: string;
  host?: string;
  port?: number;
  profileApiPort?: number;
  directoryApiPort?: number;
  /** REDIS_URL */
  redisUrl?: string;
  logLevel?: LogLevel;
  autoLogin?: boolean;
  keysFile?: string;
  /** OIDC_TESTBED_CONTROL_TOKEN: the control endpoints' bearer token for clients not on this machine. */
  controlToken?: string;
}

/** A variable that cannot be used; the message is one line and names the variable. */
export class EnvironmentError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(`${variable} ${message}`);
    this.name = 'EnvironmentError';
    this.variable = variable;
  }
}

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const PREFIX = 'OIDC_TESTBED_';

/** A control token: long enough not to be guessed, and sendable as an RFC 6750 Bearer token. */
export const CONTROL_TOKEN = /^[A-Za-z0-9._~+/-]{16,}=*$/;
export const CONTROL_TOKEN_RULE = 'must be at least 16 characters of letters, digits and - . _ ~ + / (e.g. `openssl rand -hex 24`)';

/** Every OIDC_TESTBED_* variable the CLI reads; any other one with the prefix is a typo. */
export const ENVIRONMENT_VARIABLES = [
  'OIDC_TESTBED_FIXTURE',
  'OIDC_TESTBED_FIXTURE_PATH',
  'OIDC_TESTBED_ISSUER',
  'OIDC_TESTBED_HOST',
  'OIDC_TESTBED_PORT',
  'OIDC_TESTBED_PROFILE_API_PORT',
  'OIDC_TESTBED_DIRECTORY_API_PORT',
  'OIDC_TESTBED_LOG_LEVEL',
  'OIDC_TESTBED_AUTO_LOGIN',
  'OIDC_TESTBED_KEYS_FILE',
  'OIDC_TESTBED_CONTROL_TOKEN',
  'REDIS_URL',
] as const;

type Variable = (typeof ENVIRONMENT_VARIABLES)[number];

export interface EnvironmentFiles {
  exists(path: string): boolean;
}

const nodeFiles: EnvironmentFiles = { exists: existsSync };

/**
 * Reads the settings from `env`. Empty variables count as unset (compose's `VAR:` and `-e VAR=`).
 * Throws EnvironmentError, or FixtureError for a broken OIDC_TESTBED_FIXTURE.
 */
export function readEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  files: EnvironmentFiles = nodeFiles,
): EnvironmentSettings {
  const known = new Set<string>(ENVIRONMENT_VARIABLES);
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !known.has(name))
    .sort();
  if (unknown.length > 0) {
    throw new EnvironmentError(
      unknown[0],
      `is not a setting of oidc-testbed (known: ${ENVIRONMENT_VARIABLES.filter((name) => name.startsWith(PREFIX)).join(', ')})`,
    );
  }
  const value = (name: Variable): string | undefined => {
    const text = env[name]?.trim();
    return text ? text : undefined;
  };

  const settings: EnvironmentSettings = {};
  const inline = value('OIDC_TESTBED_FIXTURE');
  const fixturePath = value('OIDC_TESTBED_FIXTURE_PATH');
  if (inline !== undefined && fixturePath !== undefined) {
    throw new EnvironmentError('OIDC_TESTBED_FIXTURE', 'and OIDC_TESTBED_FIXTURE_PATH are both set: set only one');
  }
  // Read from the raw value: trimming could change the meaning of YAML block scalars.
  if (inline !== undefined) settings.fixture = parseFixture(env.OIDC_TESTBED_FIXTURE!, 'OIDC_TESTBED_FIXTURE');
  if (fixturePath !== undefined) {
    if (!files.exists(fixturePath))
      throw new EnvironmentError('OIDC_TESTBED_FIXTURE_PATH', `names a file that does not exist: "${fixturePath}"`);
    settings.fixtureFile = fixturePath;
  } else if (inline === undefined && files.exists(FIXTURE_MOUNT_PATH)) {
    settings.fixtureFile = FIXTURE_MOUNT_PATH;
  }

  settings.issuer = optional(value('OIDC_TESTBED_ISSUER'), (text) => issuerUrl('OIDC_TESTBED_ISSUER', text));
  settings.host = optional(value('OIDC_TESTBED_HOST'), (text) => bindAddress('OIDC_TESTBED_HOST', text));
  settings.port = optional(value('OIDC_TESTBED_PORT'), (text) => port('OIDC_TESTBED_PORT', text));
  settings.profileApiPort = optional(value('OIDC_TESTBED_PROFILE_API_PORT'), (text) => port('OIDC_TESTBED_PROFILE_API_PORT', text));
  settings.directoryApiPort = optional(value('OIDC_TESTBED_DIRECTORY_API_PORT'), (text) => port('OIDC_TESTBED_DIRECTORY_API_PORT', text));
  settings.redisUrl = optional(value('REDIS_URL'), (text) => redisUrl('REDIS_URL', text));
  settings.logLevel = optional(value('OIDC_TESTBED_LOG_LEVEL'), (text) => logLevel('OIDC_TESTBED_LOG_LEVEL', text));
  settings.autoLogin = optional(value('OIDC_TESTBED_AUTO_LOGIN'), (text) => boolean('OIDC_TESTBED_AUTO_LOGIN', text));
  settings.keysFile = value('OIDC_TESTBED_KEYS_FILE');
  settings.controlToken = optional(value('OIDC_TESTBED_CONTROL_TOKEN'), (text) => controlToken('OIDC_TESTBED_CONTROL_TOKEN', text));
  return Object.fromEntries(Object.entries(settings).filter(([, setting]) => setting !== undefined)) as EnvironmentSettings;
}

function optional<T>(text: string | undefined, parse: (text: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

/** Shows a value in an error message on one line, shortened. */
function shown(text: string): string {
  const line = JSON.stringify(text);
  return line.length > 80 ? `${line.slice(0, 77)}…"` : line;
}

function port(name: Variable, text: string): number {
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(number) || number > 65535) throw new EnvironmentError(name, `must be a port number (0-65535), got ${shown(text)}`);
  return number;
}

/** OpenID Connect Discovery 1.0 §3 (and RFC 8414 §2): an issuer has no query or fragment. */
function issuerUrl(name: Variable, text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new EnvironmentError(name, `must be an absolute http:// or https:// URL, got ${shown(text)}`);
  }
  if (url.search || url.hash || text.includes('#'))
    throw new EnvironmentError(name, `must not have a query or fragment, got ${shown(text)}`);
  if (url.username || url.password) throw new EnvironmentError(name, `must not carry credentials, got ${shown(url.origin)}`);
  return text.replace(/\/+$/, '');
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function bindAddress(name: Variable, text: string): string {
  if (isIP(text) === 0 && !HOSTNAME.test(text))
    throw new EnvironmentError(name, `must be an IP address or host name to listen on (0.0.0.0 for every interface), got ${shown(text)}`);
  return text;
}

/** Checked by the store's own parser (it names the problem and never shows a password). */
function redisUrl(name: Variable, text: string): string {
  try {
    parseRedisUrl(text);
  } catch (error) {
    if (error instanceof RedisUrlError) throw new EnvironmentError(name, `is not a usable Redis URL: ${error.message}`);
    throw error;
  }
  return text;
}

function logLevel(name: Variable, text: string): LogLevel {
  const level = text.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new EnvironmentError(name, `must be one of ${LOG_LEVELS.join(', ')}, got ${shown(text)}`);
  return level;
}

/** Never shown in messages: it is a credential. */
function controlToken(name: Variable, text: string): string {
  if (!CONTROL_TOKEN.test(text)) throw new EnvironmentError(name, CONTROL_TOKEN_RULE);
  return text;
}

function boolean(name: Variable, text: string): boolean {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new EnvironmentError(name, `must be true or false, got ${shown(text)}`);
}
