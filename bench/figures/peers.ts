/**
 * The long-running processes figures 1–5 load: the testbed, bare oidc-provider and
 * oauth2-mock-server (and, for figure 1, the testbed with the CLI's default log), started once,
 * with their RSS sampled for figure 6's memory table.
 */
import { type ServerProcess, startBareProvider, startMockServer } from '../lib/processes.ts';
import type { FigureContext } from './context.ts';

/** The systems' names in the figures' rows. */
export const TESTBED = 'oidc-testbed';
export const BARE = 'bare oidc-provider';
export const MOCK = 'oauth2-mock-server';

/** RSS in MiB of the long-running processes: at start, after figures 1–4, after figure 5 (mock APIs). */
export type Memory = Record<string, { idle: number; afterLoad?: number; afterApis?: number }>;

export interface Peers {
  tb: ServerProcess;
  /** The CLI's default log (no --log-level: info, a JSON line per request on stdout, a pipe this process drains). */
  tbLog?: ServerProcess;
  bare: ServerProcess;
  mock: ServerProcess;
  /** What stop() stops: these and what the figures start beside them. */
  all: ServerProcess[];
  memory: Memory;
  /** Until what the starts left running (the key pool's refill) has finished. */
  settled(): Promise<number>;
  stop(): Promise<void>;
}

export async function startPeers(ctx: FigureContext, memory: Memory, { defaultLog }: { defaultLog: boolean }): Promise<Peers> {
  const { fixtures, home, testbedProcess } = ctx;
  const tb = await testbedProcess('testbed', { fixture: fixtures.main, logLevel: 'warn' });
  const tbLog = defaultLog ? await testbedProcess('testbed (default log)', { fixture: fixtures.main, logLevel: null }) : undefined;
  const bare = await startBareProvider(fixtures.main);
  const mock = await startMockServer();
  const all: ServerProcess[] = [tb, bare, mock, ...(tbLog ? [tbLog] : [])];
  const peers: Peers = {
    tb,
    tbLog,
    bare,
    mock,
    all,
    memory,
    settled: () => home.settle(all.map((server) => server.pid)),
    stop: async () => {
      for (const server of all) await server.stop();
    },
  };
  try {
    await peers.settled();
    await new Promise((r) => setTimeout(r, 500));
    for (const server of [tb, bare, mock]) memory[server.name] = { idle: server.rssMiB() };
  } catch (error) {
    await peers.stop();
    throw error;
  }
  return peers;
}

/** After the paths both IdPs serve (figures 1–4): the like-for-like memory comparison. */
export function sampleMemoryAfterLoad({ tb, bare, mock, memory }: Peers): void {
  for (const server of [tb, bare, mock]) memory[server.name].afterLoad = server.rssMiB();
}
