import { modelPrices } from '../../../config/model-prices';
import { costUsd, mergeUsage, turnUsage } from './anthropic-cost';

describe('Messages API costs', () => {
  const prices = modelPrices(undefined);

  it('prices every kind of token of a known model, whatever its snapshot date', () => {
    const usage = { input_tokens: 1_000_000, output_tokens: 100_000, cache_read_input_tokens: 2_000_000, cache_creation_input_tokens: 400_000 };
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 5-minute cache write per million.
    expect(costUsd(usage, 'claude-sonnet-4-5-20250929', prices)).toBeCloseTo(3 + 1.5 + 0.6 + 1.5, 10);
    expect(costUsd(usage, 'claude-sonnet-4-5', prices)).toBe(costUsd(usage, 'claude-sonnet-4-5-20250929', prices));
  });

  it('prices 1-hour cache writes at their own price', () => {
    const usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 300_000, cache_creation: { ephemeral_5m_input_tokens: 100_000, ephemeral_1h_input_tokens: 200_000 } };
    // Haiku 4.5: $1.25 per million 5-minute writes, $2 per million 1-hour writes.
    expect(costUsd(usage, 'claude-haiku-4-5-20251001', prices)).toBeCloseTo(0.125 + 0.4, 10);
  });

  it('does not guess the cost of a model it has no price for', () => {
    expect(costUsd({ input_tokens: 10, output_tokens: 10 }, 'claude-opus-9', prices)).toBeNull();
    expect(costUsd({ input_tokens: 10, output_tokens: 10 }, 'claude-sonnet-4-5-extra', prices)).toBeNull();
  });

  it('lets KSI_MODEL_PRICES add a family and change one, cache prices defaulting to the multipliers of the input price', () => {
    const custom = modelPrices('{"claude-opus-9": {"input": 10, "output": 50}, "claude-sonnet-4-5": {"input": 1, "output": 2, "cache_read": 0}}');
    expect(custom['claude-opus-9']).toEqual({ input: 10, output: 50, cache_read: 1, cache_write_5m: 12.5, cache_write_1h: 20 });
    expect(custom['claude-sonnet-4-5']).toEqual({ input: 1, output: 2, cache_read: 0, cache_write_5m: 1.25, cache_write_1h: 2 });
    expect(custom['claude-haiku-4-5']).toEqual(prices['claude-haiku-4-5']);
  });

  it.each([
    ['not JSON', /KSI_MODEL_PRICES must be a JSON object/],
    ['{"claude-x": {"input": 1}}', /KSI_MODEL_PRICES at claude-x\.output: /],
    ['{"claude-x": {"input": -1, "output": 1}}', /KSI_MODEL_PRICES at claude-x\.input: must not be negative/],
    ['{"claude-x": {"input": 1, "output": 1, "cache": 1}}', /KSI_MODEL_PRICES at claude-x: /],
    ['[1]', /KSI_MODEL_PRICES: /],
    ['{"anthropic/claude-x": {"input": 1, "output": 1}}', /KSI_MODEL_PRICES at anthropic\/claude-x: name the model without its provider/],
    ['{"claude-x-20250929": {"input": 1, "output": 1}}', /KSI_MODEL_PRICES at claude-x-20250929: name the family without a snapshot date/],
  ])('refuses a price table that is wrong: %s', (json, message) => {
    expect(() => modelPrices(json)).toThrow(message);
  });

  it('takes the counters of a message_delta over those of message_start, keeping those it leaves null', () => {
    const started = { input_tokens: 25, output_tokens: 1, cache_read_input_tokens: 5, cache_creation_input_tokens: 0 };
    const merged = mergeUsage(started, { output_tokens: 15, input_tokens: null });
    expect(turnUsage(merged)).toEqual({ input_tokens: 25, output_tokens: 15, cache_read_input_tokens: 5, cache_creation_input_tokens: 0 });
  });
});
