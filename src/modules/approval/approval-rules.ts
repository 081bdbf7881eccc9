import picomatch from 'picomatch';

/** The input fields that name what a call acts on, most telling first: the argument rules match. */
const ARGUMENT_FIELDS = ['command', 'file_path', 'notebook_path', 'path', 'url', 'pattern', 'query', 'prompt'];

/** What rules match for a tool call: `Tool(argument)`, or `Tool` for a call without input. */
export function subjectOf(toolName: string, input: Record<string, unknown>): string {
  const field = ARGUMENT_FIELDS.find((name) => typeof input[name] === 'string');
  if (field) return `${toolName}(${input[field] as string})`;
  return Object.keys(input).length === 0 ? toolName : `${toolName}(${JSON.stringify(input)})`;
}

const RULE = /^([^()]+?)(?:\((.*)\))?$/s;

/**
 * The first of `rules` a call matches: `Tool` (a glob over tool names, any argument) or
 * `Tool(glob)` (the argument too); `*` matches anything, `/` included. A malformed rule matches nothing.
 */
export function matchingRule(rules: readonly string[], toolName: string, argument: string | undefined): string | undefined {
  return rules.find((rule) => {
    const parsed = RULE.exec(rule.trim());
    if (!parsed) return false;
    const [, tool, argumentGlob] = parsed;
    if (!picomatch.isMatch(toolName, tool)) return false;
    if (argumentGlob === undefined) return true;
    return argument !== undefined && picomatch.isMatch(argument, argumentGlob, { bash: true, dot: true });
  });
}

/** The argument part of a subject (what `Tool(...)` holds); undefined for a bare `Tool`. */
export function argumentOf(subject: string, toolName: string): string | undefined {
  return subject.length > toolName.length ? subject.slice(toolName.length + 1, -1) : undefined;
}
