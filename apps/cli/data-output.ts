import { usageError } from './cli-error';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `ksi send -o pretty` from before -o table: still accepted, as table. */
const formatOf = (output: string | undefined) => (output === undefined || output === 'pretty' ? 'table' : output);

/** A bad -o is a usage error, refused before anything is sent. */
export function checkOutputFormat(output: string | undefined): void {
  if (!OUTPUT_FORMATS.includes(formatOf(output) as OutputFormat)) throw usageError(`-o ${output} is not one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** Loaded for -o yaml only: every ksi command would pay for it otherwise. */
const yaml = () => require('yaml') as typeof import('yaml');

/** Prints `data` as JSON or YAML, or as `human` renders it for people (`wide` for -o wide): the same data in each. */
export function printData(output: string | undefined, data: unknown, human: (wide: boolean) => string): void {
  const format = formatOf(output) as OutputFormat;
  const text = format === 'json' ? JSON.stringify(data, null, 2) : format === 'yaml' ? yaml().stringify(data).trimEnd() : human(format === 'wide');
  process.stdout.write(`${text}\n`);
}

/** Prints what `human` renders when the output is for people (table, wide); programs (json, yaml) get nothing. */
export function printForPeople(output: string | undefined, human: (wide: boolean) => string): void {
  const format = formatOf(output) as OutputFormat;
  if (format === 'table' || format === 'wide') process.stdout.write(`${human(format === 'wide')}\n`);
}
