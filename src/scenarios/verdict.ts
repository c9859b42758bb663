/** A run's verdict from what it recorded, as the OIDF suite judges its RP tests (see scenario.ts `Judge`). */
import type { Judge, JudgedRequest } from './scenario.ts';

export type VerdictStatus = 'waiting' | 'passed' | 'failed' | 'skipped';

export interface RunState {
  /** When the defect was first served (epoch ms), where, and the routes a correct RP no longer calls. */
  defect?: { at: number; where: string; forbidden: readonly string[]; optional?: readonly string[] };
  requests: readonly JudgedRequest[];
  deliveries: ReadonlyArray<{ at: number; url: string; status: number; cacheControl: string | null }>;
}

export interface Judgement {
  status: VerdictStatus;
  reason: string;
}

const describeRequest = (request: JudgedRequest) => `${request.route ?? 'request'} (${request.method} ${request.path} → ${request.status})`;

export function judgeRun(judge: Judge, state: RunState, now: number, waitMs: number): Judgement {
  const { defect } = state;
  switch (judge.kind) {
    case 'complete': {
      const done = state.requests.find((request, index) => judge.test(request, state.requests.slice(0, index)));
      return done
        ? { status: 'passed', reason: `the relying party completed: ${describeRequest(done)}` }
        : { status: 'waiting', reason: `waiting for ${judge.completes}` };
    }
    case 'backchannel': {
      const delivery = state.deliveries.at(-1);
      if (!delivery)
        return {
          status: 'waiting',
          reason: 'no logout token delivered yet: POST <issuer>/_testbed/logout, or log out through end_session',
        };
      // Back-Channel Logout 1.0 §2.8: success is 200, and OPs should take a framework's 204 for it too.
      const answered = judge.status === 200 && delivery.status === 204 ? 200 : delivery.status;
      if (answered !== judge.status) {
        return {
          status: 'failed',
          reason: `the relying party answered ${delivery.status} to ${judge.status === 400 ? 'the broken' : 'a valid'} logout token at ${delivery.url}; expected ${judge.status}`,
        };
      }
      const noStore =
        judge.status === 200 && !/no-store/i.test(delivery.cacheControl ?? '')
          ? ' (without Cache-Control: no-store, which §2.8 asks for)'
          : '';
      return {
        status: 'passed',
        reason: `the relying party answered ${delivery.status} to the ${judge.status === 400 ? 'broken' : 'valid'} logout token${noStore}`,
      };
    }
    case 'either':
    case 'reject': {
      if (!defect) return { status: 'waiting', reason: 'the defect has not been served yet' };
      const after = state.requests.filter((request) => request.at >= defect.at);
      const forbidden =
        judge.kind === 'reject'
          ? after.find((request) => request.route !== undefined && defect.forbidden.includes(request.route))
          : undefined;
      if (forbidden)
        return { status: 'failed', reason: `after the defect (${defect.where}) the relying party called ${describeRequest(forbidden)}` };
      const optional =
        judge.kind === 'reject'
          ? after.find((request) => request.route !== undefined && defect.optional?.includes(request.route))
          : undefined;
      if (optional) {
        return {
          status: 'skipped',
          reason: `the relying party called ${describeRequest(optional)} after the defect (${defect.where}): it does not check what it may leave unchecked here (the OIDF suite skips this)`,
        };
      }
      if (now - defect.at < waitMs)
        return {
          status: 'waiting',
          reason: `the defect was served (${defect.where}); watching for ${Math.ceil((waitMs - (now - defect.at)) / 1000)} s more`,
        };
      return {
        status: 'passed',
        reason:
          judge.kind === 'reject' && defect.forbidden.length > 0
            ? `no ${listed(defect.forbidden)} request within ${waitMs / 1000} s of the defect (${defect.where})`
            : `the defect was served (${defect.where}); either outcome passes`,
      };
    }
  }
}

/** `a`, `a or b`, `a, b or c`. */
function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}
