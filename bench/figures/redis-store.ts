/** Figure 7: figures 1–3's scenarios on the testbed with its memory store beside its Redis store; skipped without a Redis. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { PROFILE_RESOURCE } from '../lib/fixtures.ts';
import type { FlowTarget } from '../lib/flows.ts';
import type { Comparison, Entry } from '../lib/measure.ts';
import type { ServerProcess } from '../lib/processes.ts';
import { CC_OPAQUE, CC_PROFILE, CC_RS256, clientCredentialsRequest, introspectionRequest, issueTokens } from '../lib/requests.ts';
import { codeFlowRun, refreshRun } from './code-flow.ts';
import type { FigureContext } from './context.ts';
import { revocationRun } from './introspection-revocation.ts';

export async function redisStore(ctx: FigureContext): Promise<void> {
  const { bench, fixtures, home, settings, testbedProcess } = ctx;
  const probe = new Redis(settings.redis, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    console.error(`figure 7 skipped: no Redis at ${settings.redis}`);
    bench.groups.push({
      figure: 7,
      title: 'memory vs Redis store',
      entries: [],
      comparisons: [],
      notes: [`skipped: no Redis at ${settings.redis}`],
    });
    probe.disconnect();
    return;
  }
  const prefix = `oidc-testbed-bench:${randomBytes(4).toString('hex')}:`;
  const memory = await testbedProcess('testbed (memory)', { fixture: fixtures.main, apis: false });
  const redis = await testbedProcess('testbed (Redis)', {
    fixture: fixtures.main,
    apis: false,
    redis: settings.redis,
    redisPrefix: prefix,
  });
  try {
    await home.settle([memory.pid, redis.pid]);
    const entries: Entry[] = [];
    const comparisons: Comparison[] = [];
    const pair = (key: string, scenario: string, make: (server: ServerProcess) => Omit<Entry, 'key' | 'scenario' | 'system'>) => {
      entries.push(
        { key: `mem-${key}`, scenario, system: 'memory', ...make(memory) },
        { key: `redis-${key}`, scenario, system: 'Redis', ...make(redis) },
      );
      comparisons.push({ label: `${scenario}: Redis / memory`, testbed: `redis-${key}`, peer: `mem-${key}` });
    };
    const tokens = new Map<number, { opaque: string; jwt: string }>();
    for (const server of [memory, redis])
      tokens.set(server.port, {
        opaque: (await issueTokens(server.port, CC_OPAQUE, 1))[0],
        jwt: (await issueTokens(server.port, CC_PROFILE, 1))[0],
      });
    const flowTarget = (s: ServerProcess): FlowTarget => ({ port: s.port, dialect: 'testbed', resource: PROFILE_RESOURCE });
    pair('opaque', 'issue opaque', (s) => ({
      run: () => bench.load(s.port, clientCredentialsRequest(CC_OPAQUE)),
      warm: () => bench.load(s.port, clientCredentialsRequest(CC_OPAQUE), 1),
    }));
    pair('rs256', 'issue JWT RS256', (s) => ({ run: () => bench.load(s.port, clientCredentialsRequest(CC_RS256)) }));
    pair('es256', 'issue JWT ES256 (default)', (s) => ({ run: () => bench.load(s.port, clientCredentialsRequest(CC_PROFILE)) }));
    pair('flow', 'code flow', (s) => ({ unit: 'flows/s', run: codeFlowRun(ctx, flowTarget(s)) }));
    pair('refresh', 'refresh', (s) => ({ run: refreshRun(ctx, flowTarget(s)) }));
    pair('intro', 'introspect opaque', (s) => ({ run: () => bench.load(s.port, introspectionRequest(tokens.get(s.port)!.opaque)) }));
    pair('intro-jwt', 'introspect JWT', (s) => ({ run: () => bench.load(s.port, introspectionRequest(tokens.get(s.port)!.jwt)) }));
    pair('revoke', 'revoke opaque (each once)', (s) => ({ run: revocationRun(ctx, s.port, CC_OPAQUE) }));
    const runs = Math.min(settings.runs, 3);
    await bench.measure(
      7,
      'memory vs Redis store (figures 1–3 on the testbed)',
      entries,
      comparisons,
      [
        `Redis ${settings.redis.replace(/\/\/[^@]*@/, '//***@')} on this machine (its own process, not pinned); keys under a throw-away prefix, deleted afterwards; ${runs} runs`,
      ],
      runs,
    );
  } finally {
    await memory.stop();
    await redis.stop();
    for await (const keys of probe.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await probe.unlink(...keys);
    }
    probe.disconnect();
  }
}
