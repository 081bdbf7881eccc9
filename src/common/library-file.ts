import { distance } from 'fastest-levenshtein';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from '../../libs/client/src';

/** A file of the library left out: what it would have been found by, and one sentence naming the file, the line and the cause. */
export interface BrokenFile {
  names: string[];
  problem: string;
}

export type LibraryFile<T> = { ok: true; value: T } | { ok: false; broken: BrokenFile };

/**
 * Reads a YAML file of `$KSI_LIB_DIR` (a composition, a permission profile) against its schema. A
 * syntax error, or every field the schema refuses, is reported with the file's full path and the
 * line, never thrown: one bad file must not stop the daemon. `names` are the file's `nameKey`
 * when it says one, and its file name, so a lookup can point at the broken file rather than say
 * "not found".
 */
export function readLibraryFile<S extends z.ZodType>(file: string, schema: S, nameKey: string): LibraryFile<z.output<S>> {
  const names = [path.basename(file).replace(/\.ya?ml$/, '')];
  const broken = (problem: string): LibraryFile<never> => ({ ok: false, broken: { names, problem: `${file}: ${problem}` } });
  const lines = new LineCounter();
  let document: Document;
  let body: unknown;
  try {
    document = parseDocument(fs.readFileSync(file, 'utf8'), { lineCounter: lines });
    const [syntax] = document.errors;
    if (syntax) {
      const at = syntax.linePos?.[0];
      // yaml's message repeats the position and quotes the lines after it; the position is said once, at the end.
      const cause = syntax.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return broken(`not valid YAML: ${cause}${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
    }
    body = document.toJS();
  } catch (error) {
    return broken(`not readable YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const named = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[nameKey] : undefined;
  if (typeof named === 'string' && named !== names[0]) names.unshift(named);
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  return broken(describeIssues(parsed.error, schema, { document, lines }));
}

/** The closest of `candidates` to a mistyped name (edit distance, as for unknown events), or undefined. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 4));
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(name, candidate);
    if (score <= limit && (!best || score < best.score)) best = { candidate, score };
  }
  return best?.candidate;
}

/**
 * Every issue as "field: message", with its line when the value came from a YAML file; an unknown
 * key is named, with the closest key the schema knows there (or the keys it knows).
 */
export function describeIssues(error: z.ZodError, schema: z.ZodType, yaml?: { document: Document; lines: LineCounter }): string {
  return error.issues.flatMap((issue) => describeIssue(issue, schema, yaml)).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, yaml?: { document: Document; lines: LineCounter }): string[] {
  const lineOf = (offset: number | undefined) => (offset === undefined || !yaml ? '' : ` (line ${yaml.lines.linePos(offset).line})`);
  const node = yaml?.document.getIn(issue.path, true) as { range?: [number, number, number] } | undefined;
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const pair = isMap(node) ? node.items.find((item) => isScalar(item.key) && String(item.key.value) === key) : undefined;
      const keyNode = pair?.key as { range?: [number, number, number] } | undefined;
      const close = closestName(key, known);
      const hint = close !== undefined ? `did you mean ${close}?` : `the keys here are ${known.join(', ')}`;
      return `${[...issue.path, key].join('.')}: unknown key, ${hint}${lineOf(keyNode?.range?.[0])}`;
    });
  }
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  return [`${field}: ${issue.message}${lineOf(issue.path.length > 0 ? node?.range?.[0] : undefined)}`];
}

interface SchemaDef {
  type: string;
  innerType?: SchemaNode;
  in?: SchemaNode;
  shape?: Record<string, SchemaNode>;
  element?: SchemaNode;
  valueType?: SchemaNode;
}
interface SchemaNode {
  _zod: { def: SchemaDef };
}

/** The keys an object schema knows at `at` (through defaults, optionals, arrays and records), for suggestions. */
function keysAt(schema: z.ZodType, at: PropertyKey[]): string[] {
  const unwrap = (node: SchemaNode | undefined): SchemaNode | undefined => {
    let current = node;
    while (current) {
      const def: SchemaDef = current._zod.def;
      const inner = def.type === 'pipe' ? def.in : def.innerType;
      if (!inner) break;
      current = inner;
    }
    return current;
  };
  let node = unwrap(schema as unknown as SchemaNode);
  for (const step of at) {
    const def = node?._zod.def;
    node = unwrap(def?.type === 'object' ? def.shape?.[String(step)] : def?.type === 'array' ? def.element : def?.type === 'record' ? def.valueType : undefined);
  }
  const def = node?._zod.def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}
