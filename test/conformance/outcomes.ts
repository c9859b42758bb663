/** What the conformance tests compare: each scenario's status by name, and the plans' scenario lists. */

import type { ConformanceReport } from '../../src/conformance/report.ts';
import { scenariosOfPlan } from '../../src/conformance/selection.ts';

export function outcomes(report: ConformanceReport): Record<string, string> {
  return Object.fromEntries(report.results.map((result) => [result.scenario, result.status]));
}

/** Every scenario of `plans`, `passed` unless `others` says otherwise. */
export function expected(plans: readonly string[], others: Record<string, 'failed' | 'skipped'>): Record<string, string> {
  const names = [...new Set(plans.flatMap((plan) => scenariosOfPlan(plan).map((scenario) => scenario.name)))];
  return Object.fromEntries(names.map((name) => [name, others[name] ?? 'passed']));
}
