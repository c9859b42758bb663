/** The `{name}` placeholders of a plan, written out per scenario run. */

export const PLACEHOLDERS = ['issuer', 'discovery', 'scenario', 'run', 'client_id', 'client_secret', 'port'] as const;

export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Partial<Record<Placeholder, string>>;

const PATTERN = /\{([A-Za-z_]+)\}/g;

/** The placeholder names `text` uses, known or not. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PATTERN)].map((match) => match[1]);
}

/** `text` with every placeholder written out; one without a value stays as it is. */
export function expand(text: string, values: PlaceholderValues): string {
  return text.replaceAll(PATTERN, (whole, name: string) => values[name as Placeholder] ?? whole);
}
