/** Figure 8: the store's growth over many opaque tokens with a short TTL, and the sweep of the expired ones. */
import { SHORT_TTL } from '../lib/fixtures.ts';
import { elapsed, fmt, type TargetCheck } from '../lib/measure.ts';
import { CC_OPAQUE, clientCredentialsRequest, storeEntries } from '../lib/requests.ts';
import { wrk } from '../lib/wrk.ts';
import type { FigureContext } from './context.ts';

interface GrowthPoint {
  when: string;
  rssMiB: number;
  storeEntries?: number;
  issuePerSecond: number;
  p50ms: number;
  p99ms: number;
}
export interface Growth {
  tokens: number;
  ttlSeconds: number;
  points: GrowthPoint[];
  notes: string[];
}

export const emptyGrowth = (tokens: number): Growth => ({ tokens, ttlSeconds: SHORT_TTL, points: [], notes: [] });

export async function storeGrowth({ bench, fixtures, home, settings, testbedProcess }: FigureContext, growth: Growth): Promise<void> {
  console.error(`[${elapsed()}] figure 8: growth over ${growth.tokens} tokens`);
  const server = await testbedProcess('testbed (short TTL)', { fixture: fixtures.shortTtl, apis: false });
  try {
    await home.settle([server.pid]);
    // Opaque tokens: each is a stored record until it expires (client-credentials JWTs store nothing).
    const request = clientCredentialsRequest(CC_OPAQUE);
    const point = async (when: string) => {
      const entries = await storeEntries(server.port); // before the probe adds its own tokens
      const probe = await bench.load(server.port, request, 1);
      const p: GrowthPoint = {
        when,
        rssMiB: server.rssMiB(),
        storeEntries: entries,
        issuePerSecond: probe.perSecond,
        p50ms: probe.p50,
        p99ms: probe.p99,
      };
      growth.points.push(p);
      console.error(
        `  ${when}: RSS ${p.rssMiB.toFixed(1)} MiB, ${entries} store entries, ${p.issuePerSecond.toFixed(0)}/s p50 ${p.p50ms.toFixed(1)} ms`,
      );
    };
    await point('start (after a 1 s probe)');
    const bulk = await wrk(
      { port: server.port, seconds: 300, connections: settings.connections },
      { requests: Array.from({ length: growth.tokens }, () => request) },
    );
    growth.notes.push(
      `${bulk.requests} opaque access tokens (each a stored record) issued at ${bulk.perSecond.toFixed(0)}/s, ${bulk.errors} errors; each probe (after the entries are counted) issues ~1 s more`,
    );
    await point(`after ${growth.tokens} tokens`);
    if (settings.quick) {
      growth.notes.push('quick run: the sweep (every 30 s) is not awaited');
      return;
    }
    const peak = growth.points.at(-1)!.storeEntries ?? 0;
    // Stores keep expired records a little past their TTL (15 s), then the sweep runs every 30 s.
    const deadline = performance.now() + (SHORT_TTL + 60) * 1000;
    while (performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2000));
      const entries = await storeEntries(server.port);
      if (entries !== undefined && entries < peak * 0.05) break;
    }
    await point(`after expiry (${SHORT_TTL} s TTL) and the 30 s sweep`);
  } finally {
    await server.stop();
  }
}

export function growthTable(growth: Growth): string[] {
  if (growth.points.length === 0) return [];
  const lines = [
    '',
    `### 8. Growth: ${growth.tokens} tokens, ${growth.ttlSeconds} s access-token TTL`,
    '',
    '| when | RSS MiB | store entries | issue/s | p50 / p99 ms |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const p of growth.points)
    lines.push(
      `| ${p.when} | ${fmt(p.rssMiB, 1)} | ${p.storeEntries ?? '-'} | ${fmt(p.issuePerSecond)} | ${fmt(p.p50ms, 1)} / ${fmt(p.p99ms, 1)} |`,
    );
  for (const note of growth.notes) lines.push('', `_${note}_`);
  return lines;
}

export function growthTargets({ points }: Growth): TargetCheck[] {
  if (points.length < 3) return [];
  const [start, peak, end] = [points[0], points[1], points.at(-1)!];
  return [
    {
      target: '8. expired entries swept (entries back near the start)',
      value: `${start.storeEntries} → ${peak.storeEntries} → ${end.storeEntries}`,
      met: (end.storeEntries ?? Infinity) < Math.max(1000, (peak.storeEntries ?? 0) * 0.05),
    },
  ];
}
