import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config';
import { DEFAULT_MODEL_PRICES } from './model-prices';
import { daemonVariables } from '../lifecycle/daemon-settings';

describe('the Anthropic provider’s settings', () => {
  it('reads the API key but never lists it among the variables a restart records', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-ant-secret', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', KSI_ANTHROPIC_MAX_TOKENS: '1024' };
    expect(loadConfig(env).anthropic).toEqual({ apiKey: 'sk-ant-secret', baseUrl: 'http://127.0.0.1:9', maxTokens: 1024, prices: DEFAULT_MODEL_PRICES });
    expect(CONFIG_VARIABLES).not.toContain('ANTHROPIC_API_KEY');
    expect(daemonVariables(env)).toEqual({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', KSI_ANTHROPIC_MAX_TOKENS: '1024' });
  });

  it('treats an empty key as no key', () => {
    expect(loadConfig({ ANTHROPIC_API_KEY: '' }).anthropic.apiKey).toBeUndefined();
  });

  it.each([
    [{ KSI_MODEL_PRICES: '{"claude-x": {"input": "cheap", "output": 1}}' }, /^Invalid configuration: KSI_MODEL_PRICES at claude-x\.input: /],
    [{ ANTHROPIC_BASE_URL: 'not a url' }, /^Invalid configuration: ANTHROPIC_BASE_URL must be a URL/],
    [{ KSI_ANTHROPIC_MAX_TOKENS: '0' }, /^Invalid configuration: KSI_ANTHROPIC_MAX_TOKENS must be greater than 0/],
  ])('stops the start with one line naming a bad setting: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
