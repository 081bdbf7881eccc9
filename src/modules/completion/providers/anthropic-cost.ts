import { priceOf, type ModelPrices } from '../../../config/model-prices';
import type { TurnUsage } from './attempt-outcome';

/** The Messages API's `usage` as it streams: `message_start` gives it, each `message_delta` updates the counters it names. */
export interface ApiUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  /** Cache writes split by lifetime; absent on older models (all writes are then 5-minute ones). */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

/** Later counters replace earlier ones; a null or absent counter keeps the earlier value. */
export function mergeUsage(earlier: ApiUsage, later: ApiUsage | null | undefined): ApiUsage {
  const merged: ApiUsage = { ...earlier };
  for (const [key, value] of Object.entries(later ?? {}) as [keyof ApiUsage, ApiUsage[keyof ApiUsage]][]) {
    if (value !== null && value !== undefined) Object.assign(merged, { [key]: value });
  }
  return merged;
}

export function turnUsage(usage: ApiUsage): TurnUsage {
  return {
    input_tokens: usage.input_tokens ?? 0,
    output_tokens: usage.output_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
  };
}

/** USD for this usage at the model's prices; null when the price table does not know the model. */
export function costUsd(usage: ApiUsage, model: string, prices: ModelPrices): number | null {
  const price = priceOf(prices, model);
  if (!price) return null;
  const tokens = turnUsage(usage);
  const written1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const written5m = tokens.cache_creation_input_tokens - written1h;
  const microDollars =
    tokens.input_tokens * price.input +
    tokens.output_tokens * price.output +
    tokens.cache_read_input_tokens * price.cache_read +
    written5m * price.cache_write_5m +
    written1h * price.cache_write_1h;
  return microDollars / 1_000_000;
}
