import parse from 'yargs-parser';
import { holdsNonFiniteNumber } from '../../src/events/json-limits';
import { usageError } from './cli-error';

/**
 * `--key value` pairs after the event become the request's data. A value is JSON when it parses as
 * JSON (`--limit 5` is 5, `--flag true` is true, `--value '{"a":1}'` an object), a string otherwise;
 * a flag with no value is true.
 */
export function dataFromFlags(args: string[]): Record<string, unknown> {
  const parsed = parse(args, {
    configuration: {
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'camel-case-expansion': false,
      'dot-notation': false,
      'boolean-negation': false,
      'duplicate-arguments-array': false,
      'short-option-groups': false,
    },
  });
  const { _: positionals, ...flags } = parsed;
  if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}": data is given as --key value pairs or --json '{...}'`);
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) data[key] = typeof value === 'string' ? jsonOrString(value) : value;
  return data;
}

export function jsonOrString(value: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return value;
  }
  return finite(value, parsed);
}

/** JSON.stringify would send `1e400` as null: refuse it here, as the daemon refuses it on the wire. */
function finite(text: string, parsed: unknown): unknown {
  if (holdsNonFiniteNumber(text, parsed)) throw usageError(`${text.length > 60 ? `${text.slice(0, 60)}…` : text} holds a number too large for JSON (it would be sent as null)`);
  return parsed;
}

/** `--json`: must be a JSON object. */
export function dataFromJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`--json is not valid JSON: ${(error as Error).message}`);
  }
  finite(text, value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError('--json must be a JSON object, e.g. --json \'{"key": "k"}\'');
  return value as Record<string, unknown>;
}
