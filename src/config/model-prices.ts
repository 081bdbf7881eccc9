import { z } from 'zod';

/** USD per million tokens of one model family, per kind of token the Messages API counts. */
export interface ModelPrice {
  input: number;
  output: number;
  cache_write_5m: number;
  cache_write_1h: number;
  cache_read: number;
}

/** Model family (a model name without its `-YYYYMMDD` date or `-latest`) → its prices. */
export type ModelPrices = Record<string, ModelPrice>;

const price = (input: number, output: number, cacheRead: number, write5m = input * 1.25, write1h = input * 2): ModelPrice => ({
  input,
  output,
  cache_write_5m: write5m,
  cache_write_1h: write1h,
  cache_read: cacheRead,
});

/**
 * Anthropic's published list prices (platform.claude.com/docs/en/about-claude/pricing), standard tier.
 * Long-context, regional (`inference_geo`) and prompt-length tiers are not modelled; a model missing
 * here costs null until KSI_MODEL_PRICES names it.
 */
export const DEFAULT_MODEL_PRICES: ModelPrices = {
  'claude-fable-5-1': price(10, 50, 0.25),
  'claude-fable-5': price(10, 50, 1),
  'claude-opus-5': price(5, 25, 0.5),
  'claude-opus-4-8': price(5, 25, 0.5),
  'claude-opus-4-7': price(5, 25, 0.5),
  'claude-opus-4-6': price(5, 25, 0.5),
  'claude-opus-4-5': price(5, 25, 0.5),
  'claude-opus-4-1': price(15, 75, 1.5),
  'claude-opus-4': price(15, 75, 1.5),
  'claude-opus-4-0': price(15, 75, 1.5),
  'claude-sonnet-5-5': price(2, 10, 0.2),
  'claude-sonnet-5': price(2, 10, 0.2),
  'claude-sonnet-4-6': price(3, 15, 0.3),
  'claude-sonnet-4-5': price(3, 15, 0.3),
  'claude-sonnet-4': price(3, 15, 0.3),
  'claude-sonnet-4-0': price(3, 15, 0.3),
  'claude-3-7-sonnet': price(3, 15, 0.3),
  'claude-haiku-4-5': price(1, 5, 0.1),
  'claude-3-5-haiku': price(0.8, 4, 0.08),
  'claude-3-haiku': price(0.25, 1.25, 0.03, 0.3, 0.5),
};

const perMillion = z.number({ error: 'must be a number (USD per million tokens)' }).nonnegative('must not be negative');

/**
 * One family's override: input and output are required; cache prices default to Anthropic's
 * multipliers of the input price (5-minute write 1.25×, 1-hour write 2×, read 0.1×).
 */
const priceOverride = z
  .strictObject({ input: perMillion, output: perMillion, cache_write_5m: perMillion.optional(), cache_write_1h: perMillion.optional(), cache_read: perMillion.optional() })
  .transform((entry): ModelPrice => ({ ...price(entry.input, entry.output, entry.input * 0.1), ...withoutUndefined(entry) }));

/** A key is a family as priceOf looks it up: no provider prefix, no snapshot date (it would never match). */
const family = z
  .string()
  .min(1, 'a model family must not be empty')
  .refine((key) => !key.includes('/'), { message: 'name the model without its provider (claude-sonnet-4-5, not anthropic/claude-sonnet-4-5)' })
  .refine((key) => modelFamily(key) === key, { message: 'name the family without a snapshot date or -latest (claude-sonnet-4-5, not claude-sonnet-4-5-20250929): every snapshot of a family has its prices' });

const overrides = z.record(family, priceOverride);

/**
 * The price table: the defaults with KSI_MODEL_PRICES (a JSON object, family → prices) laid over
 * them. Throws a one-line message naming what is wrong.
 */
export function modelPrices(json: string | undefined): ModelPrices {
  if (json === undefined || json.trim() === '') return DEFAULT_MODEL_PRICES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('KSI_MODEL_PRICES must be a JSON object such as {"claude-sonnet-4-5": {"input": 3, "output": 15}}');
  }
  const result = overrides.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    // A refused key is reported as "Invalid key in record" with the key's own issue inside.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new Error(`KSI_MODEL_PRICES${where}: ${message}`);
  }
  return { ...DEFAULT_MODEL_PRICES, ...result.data };
}

/** A model's family: its name without a `-YYYYMMDD` snapshot date or `-latest`. */
export function modelFamily(model: string): string {
  return model.replace(/-(\d{8}|latest)$/, '');
}

/** The prices of a model, or undefined when its family has none (its cost is then unknown, not guessed). */
export function priceOf(prices: ModelPrices, model: string): ModelPrice | undefined {
  return Object.hasOwn(prices, modelFamily(model)) ? prices[modelFamily(model)] : undefined;
}

function withoutUndefined<T extends object>(entry: T): Partial<T> {
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as Partial<T>;
}
