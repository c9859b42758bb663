/**
 * Open-loop load from this process: each operation is started at its own rate, on a fixed
 * schedule, whether or not earlier ones have answered (a closed loop would slow down with the
 * server and hide its stalls). A start that falls due while `maxInFlight` of that operation are
 * still running is skipped and counted, so that a stalled server shows up as skips and latency
 * instead of an unbounded queue in the generator.
 */

export interface PacedOperation {
  name: string;
  /** Starts per second. */
  rate: number;
  maxInFlight: number;
  /** Resolves when the operation did what it should; throws otherwise (counted as failed). */
  run: () => Promise<void>;
}

export interface OperationCounts {
  started: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Milliseconds from start to settling, successes and failures alike. */
  latenciesMs: number[];
  firstError?: string;
}

/** How often due starts are sent: starts are due on an absolute schedule, so a late tick catches up. */
const TICK_MS = 5;

export class PacedLoad {
  readonly counts = new Map<string, OperationCounts>();
  readonly #operations: PacedOperation[];
  readonly #running = new Set<Promise<void>>();
  readonly #inFlight = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(operations: PacedOperation[]) {
    this.#operations = operations.filter((operation) => operation.rate > 0);
    for (const { name } of operations) this.counts.set(name, { started: 0, succeeded: 0, failed: 0, skipped: 0, latenciesMs: [] });
  }

  start(): void {
    const began = performance.now();
    const scheduled = new Map(this.#operations.map((operation) => [operation.name, 0]));
    this.#timer = setInterval(() => {
      const elapsed = performance.now() - began;
      for (const operation of this.#operations) {
        const due = Math.floor((elapsed * operation.rate) / 1000);
        for (let next = scheduled.get(operation.name)!; next < due; next += 1) this.#launch(operation);
        scheduled.set(operation.name, due);
      }
    }, TICK_MS);
  }

  /** Stops starting operations and waits for those still running. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#running]);
  }

  #launch(operation: PacedOperation): void {
    const counts = this.counts.get(operation.name)!;
    const inFlight = this.#inFlight.get(operation.name) ?? 0;
    if (inFlight >= operation.maxInFlight) {
      counts.skipped += 1;
      return;
    }
    this.#inFlight.set(operation.name, inFlight + 1);
    counts.started += 1;
    const started = performance.now();
    const settled = operation
      .run()
      .then(
        () => {
          counts.succeeded += 1;
        },
        (error: unknown) => {
          counts.failed += 1;
          counts.firstError ??= (error as Error)?.message ?? String(error);
        },
      )
      .finally(() => {
        counts.latenciesMs.push(performance.now() - started);
        this.#inFlight.set(operation.name, this.#inFlight.get(operation.name)! - 1);
        this.#running.delete(settled);
      });
    this.#running.add(settled);
  }
}

/** The q-quantile (0–1) of ascending-sorted values; NaN when there are none. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}
