import { z, type ParamIssue, type PatternDocument } from '../../../libs/client/src';
import { PLACEHOLDER, substitute } from '../../common/placeholders';
import { EventError } from '../../events/event-error';

/** A pattern file as written: its variables' defaults, and the parts PatternDocument names. */
export interface Pattern extends PatternDocument {
  variables?: Record<string, { default?: unknown }>;
}

const POSITIVE_INTEGER = 'must be a positive integer';
const SECONDS = 'must be a number of seconds, 0 or more';
const TEXT = 'must be text';

/** A number, or text that is one: a placeholder inside other text, or a number given as text ("3"), gives text. */
const numeric = (schema: z.ZodNumber) => z.preprocess((value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value), schema);

/** What start() reads of a pattern once its variables are in place, in the types it needs them in. */
const runnablePattern = z.looseObject({
  agents: z.record(z.string(), z.looseObject({ profile: z.string({ error: TEXT }), vars: z.record(z.string(), z.unknown()).optional() })),
  coordination: z.looseObject({
    turn_order: z.array(z.string()),
    // The first agent's first turn: an agent refuses a message without text, and the instance would never begin.
    start: z.string({ error: TEXT }).regex(/\S/, 'must be text that is not blank'),
    termination: z
      .looseObject({
        rounds: numeric(z.number({ error: POSITIVE_INTEGER }).int(POSITIVE_INTEGER).min(1, POSITIVE_INTEGER)).default(1),
        timeout_seconds: numeric(z.number({ error: SECONDS }).min(0, SECONDS)).default(0),
        event: z.string({ error: 'must be an event name or glob' }).min(1, 'must be an event name or glob').optional(),
      })
      .prefault({}),
  }),
});

/**
 * The pattern with `given` variables (over the defaults it declares) in place, checked before
 * anything of it runs. A value that is wrong because of a variable is the caller's mistake
 * (invalid_params, naming the variable); one written in the file is the pattern's (invalid_pattern).
 */
export function instantiate(name: string, file: string, raw: Pattern, given: Record<string, unknown>): { pattern: z.output<typeof runnablePattern>; vars: Record<string, unknown> } {
  const defaults = Object.fromEntries(Object.entries(raw.variables ?? {}).map(([variable, declared]) => [variable, declared?.default]));
  const vars = { ...defaults, ...given };
  const substituted = substitute(raw, vars);
  const parsed = runnablePattern.safeParse(substituted);
  if (parsed.success) return { pattern: parsed.data, vars };
  const byVariables: ParamIssue[] = [];
  const inFile: string[] = [];
  for (const issue of parsed.error.issues) {
    const field = issue.path.join('.');
    const variables = placeholdersIn(valueAt(raw, issue.path));
    if (variables.length === 0) {
      inFile.push(`${field} ${issue.message}`);
      continue;
    }
    const value = valueAt(substituted, issue.path);
    const missing = variables.filter((variable) => vars[variable.split('.')[0]] === undefined);
    const got = missing.length > 0 ? `; ${missing.map((variable) => `vars.${variable}`).join(', ')} not given, and the pattern declares no default` : `, not ${JSON.stringify(value)}`;
    for (const variable of variables) byVariables.push({ path: `vars.${variable}`, message: `${issue.message}${got} (the ${name} pattern's ${field})` });
  }
  if (byVariables.length > 0) {
    throw new EventError('invalid_params', byVariables.map((issue) => `${issue.path} ${issue.message}`).join('; '), { details: byVariables });
  }
  throw new EventError('invalid_pattern', `${file}: ${inFile.join('; ')}`);
}

/** The placeholder names in a value as written, once each. */
function placeholdersIn(value: unknown): string[] {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
