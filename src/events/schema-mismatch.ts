import type { z } from '../../libs/client/src';
import { describeIssues, issuesOf } from './handles.decorator';

/** Why a value does not match a result or payload schema: its issues, or the fields the schema does not declare. */
export function schemaMismatch(schema: z.ZodType, value: unknown): string | undefined {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return describeIssues(issuesOf(parsed.error));
  const extra = undeclaredFields(value, parsed.data, '');
  return extra.length > 0 ? `fields the definition does not declare: ${extra.join(', ')}` : undefined;
}

/** Object schemas drop what they do not declare: whatever the parsed copy lacks was undeclared. */
function undeclaredFields(value: unknown, parsed: unknown, at: string): string[] {
  if (Array.isArray(value) && Array.isArray(parsed)) return value.flatMap((item, index) => undeclaredFields(item, parsed[index], `${at}[${index}]`));
  if (typeof value !== 'object' || value === null || typeof parsed !== 'object' || parsed === null) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const path = at ? `${at}.${key}` : key;
    if (!(key in parsed)) return item === undefined ? [] : [path];
    return undeclaredFields(item, (parsed as Record<string, unknown>)[key], path);
  });
}
