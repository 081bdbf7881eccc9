import { toRecordedJson } from './redact';

const recorded = (value: unknown, maxBytes = 1024 * 1024) => JSON.parse(toRecordedJson(value, maxBytes)) as unknown;

describe('toRecordedJson', () => {
  it('redacts secrets at any depth', () => {
    const value = { token: 't', auth_token: 'a', accessToken: 'c', api_key: 'k', apiKey: 'k', password: 'p', client_secret: 's', nested: { a: { b: { c: { d: { authorization: 'Bearer x' } } } } } };
    expect(recorded(value)).toEqual({
      token: '[redacted]',
      auth_token: '[redacted]',
      accessToken: '[redacted]',
      api_key: '[redacted]',
      apiKey: '[redacted]',
      password: '[redacted]',
      client_secret: '[redacted]',
      nested: { a: { b: { c: { d: { authorization: '[redacted]' } } } } },
    });
  });

  it('keeps counters whose names mention tokens', () => {
    const usage = { usage: { input_tokens: 12, output_tokens: 34, cache_read_input_tokens: 5, max_tokens: 100 } };
    expect(recorded(usage)).toEqual(usage);
    expect(recorded({ ...usage, session_token: 'x' })).toEqual({ ...usage, session_token: '[redacted]' });
  });

  it("keeps every counter of the Claude CLI's result: usage, its cache breakdown and modelUsage", () => {
    const result = {
      usage: {
        input_tokens: 3,
        cache_creation_input_tokens: 4,
        cache_read_input_tokens: 5,
        output_tokens: 6,
        server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
        cache_creation: { ephemeral_1h_input_tokens: 1, ephemeral_5m_input_tokens: 2 },
      },
      modelUsage: { 'claude-sonnet-4-5': { inputTokens: 3, outputTokens: 6, cacheReadInputTokens: 5, cacheCreationInputTokens: 4, costUSD: 0.01 } },
      total_cost_usd: 0.01,
    };
    expect(recorded(result)).toEqual(result);
  });

  it('keeps values that merely mention a secret word', () => {
    const value = { text: 'my token": is here', note: 'password reset' };
    expect(recorded(value)).toEqual(value);
  });

  it('records data larger than the limit as a marker with its size in bytes', () => {
    expect(recorded({ text: 'é'.repeat(600) }, 1000)).toEqual({ _truncated: true, bytes: 1211 });
    expect(recorded({ text: 'e'.repeat(600) }, 1000)).toEqual({ text: 'e'.repeat(600) });
  });
});
