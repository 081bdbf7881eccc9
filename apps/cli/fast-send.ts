import * as path from 'node:path';
import { defaultSocketPath } from '../../libs/client/src';
import { report } from './cli-error';
import { checkOutputFormat, printData } from './data-output';
import { sendEvent } from './send-event';

/** The options `ksi send` itself takes, by every name commander knows them by; any other option is the event's data. */
const OWN_OPTIONS: Record<string, 'json' | 'output' | 'socket'> = { '--json': 'json', '-o': 'output', '--output': 'output', '-s': 'socket', '--socket': 'socket' };

interface ParsedSend {
  args: string[];
  options: { json?: string; output?: string; socket?: string };
}

/**
 * `ksi send EVENT …` read without Nest and commander, which take most of a command's start-up: the
 * event, send's own options (`--opt value` or `--opt=value`) and the rest as data flags, as commander
 * with unknown options allowed reads them. Anything else (help, `--`, no event, an option with no
 * value, a short option with its value attached) is left to the full CLI, which gives the usual help and usage errors.
 */
export function parseFastSend(argv: string[]): ParsedSend | undefined {
  if (argv[0] !== 'send') return undefined;
  const parsed: ParsedSend = { args: [], options: {} };
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i];
    // -ojson and -s/path (a short option with its value attached) are commander's to read.
    if (token === '--' || token === '-h' || token === '--help' || /^-[os]./.test(token)) return undefined;
    const [name, inline] = token.startsWith('--') && token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, undefined];
    const own = OWN_OPTIONS[name];
    if (!own) {
      parsed.args.push(token);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) return undefined;
    parsed.options[own] = value;
  }
  if (parsed.args.length === 0 || parsed.args[0].startsWith('-')) return undefined;
  return parsed;
}

/** Runs a parsed `ksi send` as SendCommand does, with the CLI's exit statuses. */
export async function runFastSend({ args, options }: ParsedSend): Promise<void> {
  try {
    checkOutputFormat(options.output);
    await sendEvent(path.resolve(options.socket ?? defaultSocketPath()), args, options, (data, human) => printData(options.output, data, () => human()));
  } catch (error) {
    process.exitCode = report(error);
  }
}
