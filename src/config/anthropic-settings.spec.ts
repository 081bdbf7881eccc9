import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config';
import { DEFAULT_MODEL_PRICES } from './model-prices';
import { daemonVariables } from '../lifecycle/daemon-settings';
import { cliEnvironment } from '../modules/completion/providers/claude-cli.provider';

describe('the Anthropic provider’s settings', () => {
  it('reads the API key but never lists it among the variables a restart records', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-ant-secret', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', KSI_ANTHROPIC_MAX_TOKENS: '1024' };
    expect(loadConfig(env).anthropic).toEqual({ apiKey: 'sk-ant-secret', baseUrl: 'http://127.0.0.1:9', maxTokens: 1024, prices: DEFAULT_MODEL_PRICES });
    expect(CONFIG_VARIABLES).not.toContain('ANTHROPIC_API_KEY');
    expect(daemonVariables(env)).toEqual({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', KSI_ANTHROPIC_MAX_TOKENS: '1024' });
  });

  it('prefers KSI_ANTHROPIC_API_KEY, which the Claude CLI never sees, and records neither for restarts', () => {
    const env = { KSI_ANTHROPIC_API_KEY: 'sk-ant-provider', ANTHROPIC_API_KEY: 'sk-ant-shared', PATH: '/usr/bin' };
    expect(loadConfig(env).anthropic.apiKey).toBe('sk-ant-provider');
    expect(daemonVariables(env)).toEqual({});
    expect(cliEnvironment(env, { KSI_REQUEST_ID: 'r1' })).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-shared', PATH: '/usr/bin', KSI_REQUEST_ID: 'r1' });
  });

  it('keeps the daemon’s own credentials out of the Claude CLI’s environment', () => {
    const env = {
      KSI_ANTHROPIC_API_KEY: 'sk-ant-provider',
      KSI_APPROVAL_WEBHOOK_SECRET: 'hmac-key',
      KSI_DATABASE_URL: 'postgresql://ksi:S3cret@db:5432/ksi',
      PGPASSWORD: 'S3cret',
      KSI_LEASE_TTL_MS: '3000',
      HOME: '/home/me',
    };
    expect(cliEnvironment(env, { KSI_REQUEST_ID: 'r1' })).toEqual({ KSI_LEASE_TTL_MS: '3000', HOME: '/home/me', KSI_REQUEST_ID: 'r1' });
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
