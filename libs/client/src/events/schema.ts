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
