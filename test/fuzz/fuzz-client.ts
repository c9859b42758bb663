/**
 * The client side of a fuzz run: draws each target's bad requests from its own seeded sequence,
 * sends them over raw sockets, a bounded number at a time, and judges every answer as it comes
 * (so no request body outlives its request). Plain TypeScript that Node runs as is: the fuzz test
 * runs it in a worker thread, beside the testbed's event loop rather than on it.
 */
import { RawConnections, type RawOutcome, type RawResponse, serializeRequest } from '../support/raw-http.ts';
import { SeededRandom } from '../support/seeded-random.ts';
import { type BadRequest, badRequest, type ErrorShape, type FuzzTarget, type Material } from './bad-requests.ts';

export interface PlannedTarget extends FuzzTarget {
  requests: number;
}

export interface FuzzOptions {
  seed: number;
  targets: readonly PlannedTarget[];
  material: Material;
  concurrency: number;
  timeoutMs: number;
  /** The command that replays this run (FUZZ_ONLY=<target> is put in front of it per failure). */
  replay: string;
}

export interface FuzzReport {
  sent: number;
  answered: number;
  /** Answers with a 5xx status the client saw. */
  serverErrors: number;
  /** Each a description of the request, with the replay command. */
  failures: string[];
  /** Non-JSON answers to methods or paths an endpoint does not serve: the problem, how often, and a few of the requests. */
  reports: Array<[problem: string, count: number, examples: string[]]>;
  /** Requests the client got no answer to (the server may have logged one nobody read). */
  unanswered: Array<{ request: string; url: string }>;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { targets, material, timeoutMs } = options;
  const generators = targets.map((target) => new SeededRandom(targetSeed(options.seed, target.name)));
  const plan = roundRobin(targets);
  const report: FuzzReport = { sent: plan.length, answered: 0, serverErrors: 0, failures: [], reports: [], unanswered: [] };
  const reports = new Map<string, { count: number; examples: Set<string> }>();
  // A request unanswered after timeoutMs is hung if the server has meanwhile answered more
  // requests than were in flight beside it (it serves others, not this one). Otherwise the whole
  // run is slow (a stalled thread, a busy machine): it is given more time, up to ten times as much.
  let outcomes = 0;
  await inParallel(plan.length, options.concurrency, async (position, connections) => {
    const [which, index] = plan[position];
    const target = targets[which];
    const bad = badRequest(generators[which], target, material);
    // A request the server may answer by closing gets a connection of its own.
    const keepOpen = !(bad.truncated || bad.brokenFraming || bad.malformedHead || bad.oversized);
    const started = Date.now();
    const outcomesBefore = outcomes;
    const hung = () => outcomes - outcomesBefore >= 2 * options.concurrency || Date.now() - started >= timeoutMs * 10;
    const outcome = await connections.send(target.url, bad.request, { ms: timeoutMs, hung }, keepOpen);
    outcomes += 1;
    const { failure, problem } = judge(target, bad, outcome, Date.now() - started);
    if (failure) report.failures.push(describeFailure({ target, index, bad, outcome }, failure, options.replay));
    if (problem) {
      const entry = reports.get(problem) ?? { count: 0, examples: new Set() };
      entry.count += 1;
      if (entry.examples.size < 8)
        entry.examples.add(
          `${bad.request.method} ${target.name}${bad.traits.some((trait) => trait.startsWith('path ') || trait.startsWith('id ')) ? ' (other path)' : ''}`,
        );
      reports.set(problem, entry);
    }
    if (outcome.kind === 'response') {
      report.answered += 1;
      if (outcome.response.status >= 500) report.serverErrors += 1;
    } else {
      report.unanswered.push({ request: `${target.name} #${index}: ${bad.traits.join('; ')}`, url: target.url });
    }
  });
  report.reports = [...reports].map(([problem, { count, examples }]) => [problem, count, [...examples]]);
  return report;
}

/**
 * What is wrong with an answer: a `failure` fails the run; a `problem` (a non-JSON answer to a
 * method or path the endpoint does not serve) is reported after it.
 */
function judge(target: FuzzTarget, bad: BadRequest, outcome: RawOutcome, waitedMs: number): { failure?: string; problem?: string } {
  if (outcome.kind === 'timeout') return { failure: `no answer within ${waitedMs} ms (a hang)` };
  if (outcome.kind !== 'response') {
    // Closing is the answer to a body cut short, to a message whose end cannot be found and to
    // a head Node's parser refuses. A server may also answer a body larger than it reads without
    // reading it and close: the reset can reach the client before the answer does. And after a
    // 4xx status line the server may close while the client still sends (413, 431).
    if (bad.truncated || bad.brokenFraming || bad.malformedHead || bad.oversized) return {};
    if (outcome.status !== undefined && outcome.status < 500) return {};
    return { failure: `connection ${outcome.kind}${outcome.code ? ` (${outcome.code})` : ''} before an answer` };
  }
  const { status, headers, body } = outcome.response;
  if (status >= 500) return { failure: `answered ${status}` };
  if (status < 400 || bad.request.method === 'HEAD' || target.errors === 'page' || acceptsHtml(bad)) return {};
  // Node's HTTP parser answers what never reached the app (bad framing, 431) without a body.
  if (!headers['content-type'] && body.length === 0) return {};
  if (isJsonError(target.errors, outcome.response)) return {};
  const problem = `a ${status} that is not a JSON error (${headers['content-type'] ?? 'no content-type'})`;
  return bad.offRoute ? { problem } : { failure: problem };
}

/** The client lets the server answer with a page (oidc-provider renders errors for `Accept: text/html`). */
function acceptsHtml(bad: BadRequest): boolean {
  return bad.request.headers.some(([name, value]) => name.toLowerCase() === 'accept' && String(value).includes('text/html'));
}

function isJsonError(errors: ErrorShape, { status, headers, body }: RawResponse): boolean {
  if (!/^application\/json\b/.test(headers['content-type'] ?? '')) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  const fields = parsed as Record<string, unknown>;
  if (typeof fields.error === 'string') return true;
  // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
  if (status === 401 && headers['www-authenticate'] && typeof fields.error_description === 'string') return true;
  return errors === 'idm' && typeof fields.code === 'number' && typeof fields.message === 'string';
}

function describeFailure(
  { target, index, bad, outcome }: { target: FuzzTarget; index: number; bad: BadRequest; outcome: RawOutcome },
  problem: string,
  replay: string,
): string {
  const bytes = serializeRequest(bad.request, new URL(target.url).host);
  const shown = bytes.length > 700 ? `${bytes.subarray(0, 700).toString('latin1')}… (${bytes.length} bytes)` : bytes.toString('latin1');
  const answer =
    outcome.kind === 'response'
      ? `${outcome.response.status} ${outcome.response.headers['content-type'] ?? ''} ${outcome.response.body.subarray(0, 300).toString('utf8')}`
      : outcome.kind;
  return [
    `${target.name} #${index}: ${problem}`,
    `  replay: FUZZ_ONLY='${target.name}' ${replay}`,
    `  traits: ${bad.traits.join('; ') || 'none'}${bad.truncated ? ' (client closed its side after the partial body)' : ''}`,
    `  request: ${JSON.stringify(shown)}`,
    `  answer: ${answer}`,
  ].join('\n');
}

/** `count` jobs, at most `concurrency` at a time, started in index order; each lane keeps its connections. */
async function inParallel(
  count: number,
  concurrency: number,
  job: (index: number, connections: RawConnections) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    const connections = new RawConnections();
    try {
      while (next < count) await job(next++, connections);
    } finally {
      connections.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/**
 * The order of the requests: one of each target in turn, so every target's requests spread over
 * the run; each target draws its requests from its own sequence, in order.
 */
function roundRobin(targets: readonly PlannedTarget[]): Array<[target: number, index: number]> {
  const plan: Array<[number, number]> = [];
  const most = Math.max(...targets.map((target) => target.requests));
  for (let index = 0; index < most; index++) {
    targets.forEach((target, which) => {
      if (index < target.requests) plan.push([which, index]);
    });
  }
  return plan;
}

/** A target's seed: the run's mixed with the target's name (FNV-1a), so that a target replays alone. */
function targetSeed(seed: number, name: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const char of Buffer.from(name)) hash = Math.imul(hash ^ char, 0x01000193) >>> 0;
  return hash;
}
