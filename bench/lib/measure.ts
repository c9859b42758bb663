/**
 * How the figures of bench/run.ts measure: groups of entries run interleaved (run i of every entry
 * before run i + 1 of any) and compared pair by pair, each summarized as the median and min–max of
 * its runs; and the markdown tables and target checks made of them.
 */
import { type HttpRequest, type LoadResult, wrk } from './wrk.ts';

export interface RunSettings {
  quick: boolean;
  /** Runs per entry (a group may ask for fewer). */
  runs: number;
  /** Seconds per run of a fixed request. */
  seconds: number;
  /** wrk's connections, and the flows in flight when Node drives them. */
  connections: number;
}

export interface Entry {
  key: string;
  scenario: string;
  system: string;
  unit?: string;
  /** One measured run (preparation inside is not timed: wrk and drive() time themselves). */
  run: () => Promise<LoadResult>;
  /** A short untimed warm-up, for paths that JIT-compile on first use. */
  warm?: () => Promise<unknown>;
}

export interface Comparison {
  label: string;
  testbed: string;
  peer: string;
  /** The testbed/peer ratio the issue asks for, if any. */
  target?: number;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export interface EntryResult {
  key: string;
  scenario: string;
  system: string;
  unit: string;
  perSecond: Summary;
  /** Server CPU time per request, µs (runs driven by wrk only). */
  cpuMicros?: Summary;
  p50ms: number;
  p99ms: number;
  errors: number;
  runs: LoadResult[];
}

export interface ComparisonResult extends Comparison {
  ratio: Summary;
  /** The same ratio from server CPU per request (peer's µs / testbed's µs, pair by pair): the cost, less disturbed by the machine. */
  cpuRatio?: Summary;
  met?: boolean;
}

export interface Group {
  figure: number;
  title: string;
  entries: EntryResult[];
  comparisons: ComparisonResult[];
  notes: string[];
}

/** A row of the report's Targets table. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean | undefined;
}

export function summarize(numbers: number[]): Summary {
  const sorted = [...numbers].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const benchStarted = performance.now();
/** Time since the bench started, for its progress lines. */
export const elapsed = () => `${((performance.now() - benchStarted) / 1000).toFixed(0)} s`;

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
export const range = (s: Summary, digits = 0) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
export const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : '**missed**');

/** Measures groups of entries, keeping every group it measured (the results' `groups`). */
export class Measurer {
  readonly groups: Group[] = [];
  readonly #settings: RunSettings;

  constructor(settings: RunSettings) {
    this.#settings = settings;
  }

  /** wrk sending one request over and over. */
  load(port: number, request: HttpRequest, seconds = this.#settings.seconds): Promise<LoadResult> {
    return wrk({ port, seconds, connections: this.#settings.connections }, { request });
  }

  /** wrk sending each request of a list once. */
  loadList(port: number, requests: HttpRequest[]): Promise<LoadResult> {
    return wrk({ port, seconds: Math.max(10, this.#settings.seconds * 5), connections: this.#settings.connections }, { requests });
  }

  /** An entry that loads one request over and over, warmed for a second. */
  fixed(key: string, scenario: string, system: string, port: number, request: HttpRequest): Entry {
    return { key, scenario, system, run: () => this.load(port, request), warm: () => this.load(port, request, 1) };
  }

  async measure(
    figure: number,
    title: string,
    entries: Entry[],
    comparisons: Comparison[] = [],
    notes: string[] = [],
    runCount = this.#settings.runs,
  ): Promise<Group> {
    console.error(`[${elapsed()}] figure ${figure}: ${title}`);
    if (!this.#settings.quick) for (const entry of entries) await entry.warm?.();
    const runs = new Map(entries.map((entry) => [entry.key, [] as LoadResult[]]));
    for (let i = 0; i < runCount; i += 1) {
      // Every other run goes through the entries backwards, so neither side of a pair always runs first.
      for (const entry of i % 2 ? [...entries].reverse() : entries) {
        const result = await entry.run();
        runs.get(entry.key)!.push(result);
        console.error(
          `  ${entry.scenario} · ${entry.system}: ${result.perSecond.toFixed(0)}/s${result.serverCpuMicros ? `, ${result.serverCpuMicros.toFixed(0)} µs CPU/request` : ''}${result.errors ? ` (${result.errors} errors)` : ''}`,
        );
      }
    }
    const results: EntryResult[] = entries.map((entry) => {
      const list = runs.get(entry.key)!;
      const perSecond = summarize(list.map((r) => r.perSecond));
      const middle = [...list].sort((a, b) => a.perSecond - b.perSecond)[list.length >> 1];
      const cpu = list.map((r) => r.serverCpuMicros);
      return {
        key: entry.key,
        scenario: entry.scenario,
        system: entry.system,
        unit: entry.unit ?? 'req/s',
        perSecond,
        ...(cpu.every((us) => us !== undefined) ? { cpuMicros: summarize(cpu as number[]) } : {}),
        p50ms: middle.p50,
        p99ms: middle.p99,
        errors: list.reduce((sum, r) => sum + r.errors, 0),
        runs: list,
      };
    });
    const compared: ComparisonResult[] = comparisons.map((comparison) => {
      const a = runs.get(comparison.testbed)!;
      const b = runs.get(comparison.peer)!;
      const ratio = summarize(a.map((run, i) => run.perSecond / b[i].perSecond));
      const costs = a.map((run, i) =>
        run.serverCpuMicros && b[i].serverCpuMicros ? b[i].serverCpuMicros! / run.serverCpuMicros : undefined,
      );
      const cpuRatio = costs.every((r) => r !== undefined) ? summarize(costs as number[]) : undefined;
      return {
        ...comparison,
        ratio,
        ...(cpuRatio ? { cpuRatio } : {}),
        ...(comparison.target === undefined ? {} : { met: ratio.median >= comparison.target }),
      };
    });
    const group = { figure, title, entries: results, comparisons: compared, notes };
    this.groups.push(group);
    return group;
  }
}

/** The report's lines for measured groups: entries, then ratios, then notes. */
export function groupTables(groups: Group[]): string[] {
  const lines: string[] = [];
  for (const group of groups) {
    lines.push('', `### ${group.figure}. ${group.title}`, '');
    if (group.entries.length > 0) {
      lines.push(
        '| scenario | system | per second, median (min–max) | server CPU µs per request | p50 / p99 ms | errors |',
        '|---|---|---:|---:|---:|---:|',
      );
      for (const e of group.entries)
        lines.push(
          `| ${e.scenario} | ${e.system} | ${range(e.perSecond)} ${e.unit === 'req/s' ? '' : e.unit} | ${e.cpuMicros ? range(e.cpuMicros) : '—'} | ${fmt(e.p50ms, 1)} / ${fmt(e.p99ms, 1)} | ${e.errors} |`,
        );
    }
    if (group.comparisons.length > 0) {
      lines.push(
        '',
        '| ratio (pair by pair) | median (min–max) | same, by server CPU per request | target | |',
        '|---|---:|---:|---:|---|',
      );
      for (const c of group.comparisons)
        lines.push(
          `| ${c.label} | ${range(c.ratio, 2)} | ${c.cpuRatio ? range(c.cpuRatio, 2) : '—'} | ${c.target === undefined ? '' : `≥ ${c.target}`} | ${verdict(c.met)} |`,
        );
    }
    for (const note of group.notes) lines.push('', `_${note}_`);
  }
  return lines;
}

/** A check for every ratio that has a target. */
export function comparisonTargets(groups: Group[]): TargetCheck[] {
  return groups.flatMap((group) =>
    group.comparisons
      .filter((c) => c.target !== undefined)
      .map((c) => ({
        target: `${group.figure}. ${c.label} ≥ ${c.target}×`,
        value: `${fmt(c.ratio.median, 2)}×${c.cpuRatio ? ` (by CPU per request ${fmt(c.cpuRatio.median, 2)}×)` : ''}`,
        met: c.met,
      })),
  );
}
