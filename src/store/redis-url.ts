/**
 * Redis URLs the testbed accepts, and the ioredis client each one makes:
 *
 *   redis://[[user]:password@]host[:6379][/db]             one server
 *   rediss://…                                              the same over TLS
 *   redis+cluster://[[user]:password@]host:port[,host:port…]   a Redis Cluster (seed nodes)
 *   rediss+cluster://…                                      the same over TLS
 *   redis+sentinel://[[user]:password@]host:port[,host:port…]/master-name[/db][?sentinelUsername=…&sentinelPassword=…]
 *   rediss+sentinel://…                                     the same, TLS to Sentinels and servers
 *
 * Credentials in the authority are the Redis server's; Sentinels' own go in the query.
 */
import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

// ioredis takes ~50 ms to load: only a testbed that uses Redis pays for it (cold start).
const require = createRequire(import.meta.url);
const ioredis = () => require('ioredis') as typeof import('ioredis');

export type RedisTopology = 'standalone' | 'cluster' | 'sentinel';

export const REDIS_URL_SCHEMES = ['redis:', 'rediss:', 'redis+cluster:', 'rediss+cluster:', 'redis+sentinel:', 'rediss+sentinel:'] as const;

export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

export interface RedisTarget {
  topology: RedisTopology;
  /** The URL with its passwords replaced by `***`: safe for logs, errors and /healthz. */
  display: string;
  /** A client with the given connection behaviour (lazy: it connects when told to). */
  connect(options: RedisOptions): Redis | Cluster;
}

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/?#]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/i;

/** Parses a Redis URL (see the module comment); throws RedisUrlError naming what is wrong. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase();
  if (!scheme || !(REDIS_URL_SCHEMES as readonly string[]).includes(scheme)) {
    throw new RedisUrlError(
      `a Redis URL must start with ${REDIS_URL_SCHEMES.map((name) => `${name}//`).join(', ')}${scheme ? ` (got a ${scheme} URL)` : ''}`,
    );
  }
  const display = redactRedisUrl(url);
  if (scheme === 'redis:' || scheme === 'rediss:') {
    if (!URL.canParse(url) || !new URL(url).hostname)
      throw new RedisUrlError(`${display} is not a URL with a host (e.g. redis://127.0.0.1:6379)`);
    return { topology: 'standalone', display, connect: (options) => new (ioredis().Redis)(url, options) };
  }

  const match = MULTI_HOST.exec(url);
  if (!match) throw new RedisUrlError(`${display} is not a ${scheme}// URL with a host list (e.g. ${scheme}//10.0.0.1:7000,10.0.0.2:7000)`);
  const [, base, topology, userinfo, hostList, path = '', query = ''] = match;
  const tls = base.toLowerCase() === 'rediss';
  const credentials = parseUserinfo(userinfo);
  const defaultPort = topology === 'sentinel' ? 26379 : 6379;
  const nodes = hostList.split(',').map((entry) => parseHostPort(entry, defaultPort, display));
  const params = new URLSearchParams(query);

  if (topology.toLowerCase() === 'cluster') {
    if (path && path !== '/') throw new RedisUrlError(`${display}: a Redis Cluster has no database number or path`);
    return {
      topology: 'cluster',
      display,
      connect: (options) => new (ioredis().Cluster)(nodes, clusterOptions(options, { ...credentials, ...(tls ? { tls: {} } : {}) })),
    };
  }

  const [name, db, ...extra] = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (!name || extra.length > 0 || (db !== undefined && !/^\d+$/.test(db))) {
    throw new RedisUrlError(
      `${display}: name the master after the Sentinels, and optionally a database number (…/mymaster or …/mymaster/0)`,
    );
  }
  const sentinel: RedisOptions = {
    sentinels: nodes,
    name,
    ...credentials,
    ...(db !== undefined ? { db: Number(db) } : {}),
    ...(params.get('sentinelUsername') ? { sentinelUsername: params.get('sentinelUsername')! } : {}),
    ...(params.get('sentinelPassword') ? { sentinelPassword: params.get('sentinelPassword')! } : {}),
    ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
  };
  return { topology: 'sentinel', display, connect: (options) => new (ioredis().Redis)({ ...options, ...sentinel }) };
}

/** A Redis URL with passwords (userinfo, `sentinelPassword`) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***'}@`;
    })
    .replace(/([?&]sentinelPassword=)[^&#]*/gi, '$1***');
}

function parseUserinfo(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : undefined;
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseHostPort(entry: string, defaultPort: number, display: string): { host: string; port: number } {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(entry.trim());
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (!match || port < 1 || port > 65535) throw new RedisUrlError(`${display}: "${entry}" is not host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/**
 * Cluster options from the per-connection ones: ioredis keeps the offline queue and the reconnect
 * strategy at the cluster level and the rest per node.
 */
function clusterOptions(options: RedisOptions, node: RedisOptions): ClusterOptions {
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...perNode } = options;
  return {
    enableOfflineQueue,
    lazyConnect,
    clusterRetryStrategy: retryStrategy ?? undefined,
    redisOptions: { ...perNode, ...node },
    // Fail over and re-map slots quickly; a cluster that stays down fails requests instead.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
  };
}
