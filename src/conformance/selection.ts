/**
 * Which scenarios a conformance run drives: the built-in plans are the scenario catalog's tags
 * (after the OIDF RP test plans) and `all`; named scenarios are added; `--only` narrows to names.
 */
import { SCENARIO_CATALOG } from '../scenarios/catalog.ts';
import type { ScenarioDefinition, ScenarioPlan } from '../scenarios/scenario.ts';
import { PlanError } from './plan.ts';

/** Every tag the catalog uses, in first-use order, then `all`. */
export function builtInPlans(): string[] {
  const tags = new Set<string>();
  for (const scenario of SCENARIO_CATALOG.values()) for (const tag of scenario.plans) tags.add(tag);
  return [...tags, 'all'];
}

/** The scenarios of a built-in plan, in catalog order. */
export function scenariosOfPlan(plan: string): ScenarioDefinition[] {
  return [...SCENARIO_CATALOG.values()].filter((scenario) => plan === 'all' || scenario.plans.includes(plan as ScenarioPlan));
}

export interface Selection {
  plans?: readonly string[];
  scenarios?: readonly string[];
  /** Only these (by name), whatever the plans say. */
  only?: readonly string[];
}

/**
 * The scenarios to run, in catalog order, without repeats. Unknown plans or names are a
 * PlanError at the field that named them (`source` is the plan file, or `--plan`/`--only`).
 */
export function selectScenarios(
  selection: Selection,
  source: string,
  /** Where in the source each list is; none for a command-line flag (the source names it). */
  fields: { plans?: string; scenarios?: string; only?: string } = { plans: 'plans', scenarios: 'scenarios' },
) {
  const at = (field: string | undefined, index: number): PropertyKey[] => (field ? [field, index] : []);
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const known = builtInPlans();
  const names = new Set<string>();
  selection.plans?.forEach((plan, index) => {
    if (!known.includes(plan))
      problems.push({ path: at(fields.plans, index), message: `unknown plan "${plan}": use one of ${known.join(', ')}` });
    else for (const scenario of scenariosOfPlan(plan)) names.add(scenario.name);
  });
  const byName = (list: readonly string[] | undefined, field: string | undefined) =>
    (list ?? []).filter((name, index) => {
      if (SCENARIO_CATALOG.has(name)) return true;
      problems.push({ path: at(field, index), message: `no scenario "${name}"${suggestion(name)} (see docs/scenarios.md)` });
      return false;
    });
  for (const name of byName(selection.scenarios, fields.scenarios)) names.add(name);
  const only = selection.only ? new Set(byName(selection.only, fields.only)) : undefined;
  if (problems.length > 0) throw new PlanError(source, problems);
  const chosen = [...SCENARIO_CATALOG.values()].filter((scenario) => (only ? only.has(scenario.name) : names.has(scenario.name)));
  if (chosen.length === 0) throw new PlanError(source, [{ path: [], message: 'selects no scenario: name a plan or scenarios' }]);
  return chosen;
}

/** `; did you mean "…"?` for the catalog name sharing most words with `name`. */
function suggestion(name: string): string {
  const words = new Set(name.split('-'));
  const shared = (known: string) => known.split('-').filter((word) => words.has(word)).length;
  const [best] = [...SCENARIO_CATALOG.keys()].sort((a, b) => shared(b) - shared(a));
  return best && shared(best) >= 2 ? `; did you mean "${best}"?` : '';
}
