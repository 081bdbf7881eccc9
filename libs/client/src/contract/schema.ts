import { z } from 'zod';

// One wording for missing fields everywhere: "Required" reads better than zod's default sentence.
z.config({
  customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined),
});

export { z };

/** Any JSON value, `null` included; only absence is refused. Not walked: it came from JSON.parse. */
export const jsonValue = () =>
  z.unknown().refine((value) => value !== undefined, { message: 'Required' }).describe('Any JSON value');

export const jsonObject = () => z.record(z.string(), z.unknown());

export const nonEmpty = (description: string) => z.string().min(1, 'Must not be empty').describe(description);

/** A parameter schema: every event's `data` is an object. */
export type ParamsSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/**
 * Ids that become file or folder names (agents, sandboxes, sessions, compositions, patterns): letters,
 * digits, `.`, `_`, `-`, starting with a letter or digit, so `.`, `..` and option-like values (`--x`)
 * are never valid; at most 128 characters.
 */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const isSafeId = (value: unknown): value is string => typeof value === 'string' && SAFE_ID_PATTERN.test(value);

export const safeId = (description: string) =>
  z
    .string()
    .regex(SAFE_ID_PATTERN, 'Must be 1-128 letters, digits, . _ - and start with a letter or digit')
    .describe(description);
