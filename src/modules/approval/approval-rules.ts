import picomatch from 'picomatch';
import { parse as parseShell } from 'shell-quote';

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

/**
 * The deny rule a call matches. A Bash line is denied when it matches as a whole or when any command
 * in it does, from any of its words: `ls && rm -rf ~`, `{ rm -rf ~; }` and `nohup rm -rf ~` are all
 * denied by `Bash(rm -rf*)` (and so is `echo rm -rf`: a deny rule errs on the side of denying).
 */
export function denyingRule(rules: readonly string[], toolName: string, argument: string | undefined): string | undefined {
  const whole = matchingRule(rules, toolName, argument);
  if (whole !== undefined || toolName !== 'Bash' || argument === undefined) return whole;
  for (const words of shellCommands(argument).commands) {
    for (let first = 0; first < words.length; first++) {
      const matched = matchingRule(rules, toolName, words.slice(first).join(' '));
      if (matched !== undefined) return matched;
    }
  }
  return undefined;
}

/**
 * The allow rules a call matches, joined. A Bash line is allowed only when every command in it
 * matches a rule and it has nothing else that runs or writes (a substitution, a redirection, a comment or a
 * subshell): `Bash(ls*)` allows `ls -la` and `ls | sort` only with `Bash(sort*)`, never `ls; curl … | sh`.
 */
export function allowingRule(rules: readonly string[], toolName: string, argument: string | undefined): string | undefined {
  if (toolName !== 'Bash' || argument === undefined) return matchingRule(rules, toolName, argument);
  const { commands, plain } = shellCommands(argument);
  if (!plain || commands.length === 0) return undefined;
  const matched = commands.map((words) => matchingRule(rules, toolName, words.join(' ')));
  return matched.every((rule) => rule !== undefined) ? [...new Set(matched)].join(', ') : undefined;
}

/** What separates the commands of a line; any other operator redirects or opens a subshell. */
const SEPARATORS = new Set([';', '&&', '||', '|', '|&', '&']);
/** Runs a command inside the words (a substitution), or ends one where the parser does not see it (a new line). */
const HIDDEN_COMMAND = /[\n\r`]|\$\(|[<>]\(/;

/**
 * The commands of a shell line, each as its words (quotes and escapes resolved, so `r"m"` reads
 * `rm`); `plain` when the line has nothing but commands and separators. Parsed with shell-quote;
 * variables stay as written.
 */
function shellCommands(line: string): { commands: string[][]; plain: boolean } {
  let plain = !HIDDEN_COMMAND.test(line);
  const commands: string[][] = [];
  for (const physical of line.split(/[\r\n]+/)) {
    let words: string[] = [];
    const end = () => {
      if (words.length > 0) commands.push(words);
      words = [];
    };
    for (const token of parseShell(physical, (name) => `$${name}`)) {
      if (typeof token === 'string') words.push(token);
      else if ('comment' in token) {
        // shell-quote starts a comment at any '#', bash only at a word's start (`pwd#; rm -rf ~` runs rm):
        // the rest of the line is never allowed, and deny rules read it as commands.
        plain = false;
        end();
        commands.push(...shellCommands(token.comment).commands);
      } else if (token.op === 'glob') words.push(token.pattern);
      else if (SEPARATORS.has(token.op)) end();
      else {
        plain = false;
        end();
      }
    }
    end();
  }
  return { commands, plain };
}

/** The argument part of a subject (what `Tool(...)` holds); undefined for a bare `Tool`. */
export function argumentOf(subject: string, toolName: string): string | undefined {
  return subject.length > toolName.length ? subject.slice(toolName.length + 1, -1) : undefined;
}
