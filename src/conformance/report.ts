/** A conformance run's report: a line per scenario as it goes, JUnit XML, JSON and Markdown. */
import type { ScenarioResult } from './drive.ts';

export interface ConformanceReport {
  /** The plan file (or `plan`). */
  plan: string;
  /** The testbed's issuer the runs were made under. */
  issuer: string;
  started_at: string;
  duration_ms: number;
  totals: { scenarios: number; passed: number; failed: number; skipped: number };
  results: ScenarioResult[];
  /** 0 when nothing failed, 1 otherwise (a broken plan throws PlanError instead: exit 2). */
  exit_code: 0 | 1;
}

const MARK = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' } as const;

/** `[ 3/26] PASS id-token-invalid-iss (1.2 s) — reason` */
export function progressLine(result: ScenarioResult, done: number, total: number): string {
  const count = String(done).padStart(String(total).length);
  return `[${count}/${total}] ${MARK[result.status]} ${result.scenario.padEnd(40)} ${seconds(result.duration_ms).padStart(7)}  ${result.reason}`;
}

export function summaryLine(report: ConformanceReport): string {
  const { passed, failed, skipped, scenarios } = report.totals;
  return `${scenarios} scenarios: ${passed} passed, ${failed} failed, ${skipped} skipped in ${seconds(report.duration_ms)}`;
}

/** The requests the RP made at the run, one a line. */
function requestList(result: ScenarioResult): string {
  return result.requests
    .map(
      (request) =>
        `${request.at} ${request.method} ${request.path} → ${request.status} (${request.endpoint}${request.grant_type ? `, ${request.grant_type}` : ''}${request.error ? `, ${request.error}` : ''})`,
    )
    .join('\n');
}

/** JUnit XML as CI systems read it: one testcase per scenario, failures with the reason, the request list as system-out. */
export function junitXml(report: ConformanceReport): string {
  const { totals } = report;
  const cases = report.results.map((result) => {
    const inner = [
      result.status === 'failed' ? `      <failure message="${xml(result.reason)}">${xml(result.reason)}</failure>` : '',
      result.status === 'skipped' ? `      <skipped message="${xml(result.reason)}"/>` : '',
      `      <system-out>${xml(`${result.reason}\nrun ${result.issuer}\n${requestList(result)}`)}</system-out>`,
      result.rp.output ? `      <system-err>${xml(result.rp.output)}</system-err>` : '',
    ].filter(Boolean);
    return `    <testcase classname="oidc-testbed.${xml(result.plans[0] ?? 'scenario')}" name="${xml(result.scenario)}" time="${(result.duration_ms / 1000).toFixed(3)}">\n${inner.join('\n')}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="oidc-testbed conformance" tests="${totals.scenarios}" failures="${totals.failed}" skipped="${totals.skipped}" time="${(report.duration_ms / 1000).toFixed(3)}">`,
    `  <testsuite name="${xml(report.plan)}" tests="${totals.scenarios}" failures="${totals.failed}" skipped="${totals.skipped}" errors="0" timestamp="${report.started_at}" time="${(report.duration_ms / 1000).toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export function jsonReport(report: ConformanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** For a pull-request comment: the totals, then a table (failures first). */
export function markdownReport(report: ConformanceReport): string {
  const order = { failed: 0, skipped: 1, passed: 2 } as const;
  const rows = [...report.results]
    .sort((a, b) => order[a.status] - order[b.status])
    .map(
      (result) =>
        `| ${{ passed: '✅', failed: '❌', skipped: '⏭️' }[result.status]} ${result.status} | \`${result.scenario}\` | ${cell(result.reason)} | ${seconds(result.duration_ms)} |`,
    );
  return [
    `### OIDC conformance: ${report.totals.failed === 0 ? 'nothing failed' : `${report.totals.failed} failed`}`,
    '',
    `${summaryLine(report)} (plan \`${report.plan}\`).`,
    '',
    '| result | scenario | why | time |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function xml(text: string): string {
  // Characters XML 1.0 cannot hold at all are dropped (an RP's output may have them).
  return text
    .replaceAll(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
