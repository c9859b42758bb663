/** What every figure of bench/run.ts is given: the run's settings, its fixtures and measurer, and the bench's own home. */
import { type ScratchHome, scratchHome } from '../lib/background.ts';
import type { BenchFixtures } from '../lib/fixtures.ts';
import { Measurer, type RunSettings } from '../lib/measure.ts';
import { type ServerProcess, startTestbedProcess, type TestbedStart } from '../lib/processes.ts';

export interface Settings extends RunSettings {
  /** First-use and revocation runs: each token used once. */
  tokensPerRun: number;
  /** First use through introspection is slower. */
  opaqueTokensPerRun: number;
  /** Minted by refresh chains (slower to make). */
  userTokensPerRun: number;
  /** Figure 8's token count. */
  growthTokens: number;
  /** Figure 7's Redis. */
  redis: string;
}

export interface FigureContext {
  settings: Settings;
  fixtures: BenchFixtures;
  bench: Measurer;
  /** The bench's own XDG homes (bench/lib/background.ts): the testbed's key pool and keys file, and what it leaves running. */
  home: ScratchHome;
  /** A testbed CLI process in the bench's home. */
  testbedProcess(name: string, options?: TestbedStart): Promise<ServerProcess>;
}

export function figureContext(settings: Settings, fixtures: BenchFixtures): FigureContext {
  const home = scratchHome();
  return {
    settings,
    fixtures,
    bench: new Measurer(settings),
    home,
    testbedProcess: (name, options = {}) => startTestbedProcess(name, { ...options, env: { ...home.env, ...options.env } }),
  };
}
