/** `{{ name }}` placeholders (dotted paths allowed), shared by compositions and orchestration patterns. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z_][\w.]*)\s*\}\}$/;

type Vars = Record<string, unknown>;

/** Replaces placeholders in every string inside `value`; a string that is one placeholder takes the value's type. */
export function substitute(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value);
    if (whole) {
      const found = lookup(vars, whole[1]);
      return found === undefined ? value : found;
    }
    return value.replace(PLACEHOLDER, (match, name: string) => {
      const found = lookup(vars, name);
      if (found === undefined) return match;
      return typeof found === 'string' ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, vars)]));
  return value;
}

function lookup(vars: Vars, dotted: string): unknown {
  let current: unknown = vars;
  for (const part of dotted.split('.')) {
    // Own properties only: `{{ constructor }}` names no variable.
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Vars)[part];
  }
  return current;
}
