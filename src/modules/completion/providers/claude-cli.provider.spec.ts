import type { KsiConfig } from '../../../config/config';
import { ClaudeCliProvider } from './claude-cli.provider';
import type { Turn } from './completion-provider';

const provider = new ClaudeCliProvider({ claudeBin: '/nonexistent/claude' } as KsiConfig);
const request = (fields: Partial<Turn>): Turn => ({ requestId: 'r1', prompt: 'hi', model: 'sonnet', sessionId: 's-1', resume: false, timeoutMs: 1_000, env: {}, ...fields });
const FLAG = '--dangerously-skip-permissions';

describe('ClaudeCliProvider.argv', () => {
  it('passes every option as one --name=value element', () => {
    expect(
      provider.argv(
        request({ allowedTools: ['Read', 'Bash(git *)'], disallowedTools: ['Write'], maxTurns: 3, resume: true, sessionId: 'abc-1', mcpConfig: '/tmp/m.json', systemPrompt: 'Be brief.', settingSources: ['user'] }),
      ),
    ).toEqual([
      '-p',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      '--model=sonnet',
      '--allowedTools=Read',
      '--allowedTools=Bash(git *)',
      '--disallowedTools=Write',
      '--max-turns=3',
      '--resume=abc-1',
      '--mcp-config=/tmp/m.json',
      '--append-system-prompt=Be brief.',
      '--setting-sources=user',
    ]);
  });

  it('never lets a value that looks like an option stand alone in argv', () => {
    const argv = provider.argv(request({ resume: true, sessionId: FLAG, mcpConfig: FLAG, systemPrompt: FLAG, allowedTools: ['Read', FLAG], disallowedTools: [FLAG] }));
    expect(argv).not.toContain(FLAG);
    expect(argv.slice(5).every((arg) => /^--[A-Za-z-]+=/.test(arg))).toBe(true);
  });

  it('leaves out options the request does not set', () => {
    expect(provider.argv(request({ allowedTools: [], disallowedTools: [] }))).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model=sonnet', '--session-id=s-1']);
  });
});

describe('ClaudeCliProvider.refusal', () => {
  it.each([
    ['an option-like session', { resume: true, sessionId: FLAG }, /not a usable session id/],
    ['a session that is a path', { resume: true, sessionId: '../../etc' }, /not a usable session id/],
    ['an option-like allowed tool', { allowedTools: ['Read', '-x'] }, /must not start with '-'/],
    ['an option-like disallowed tool', { disallowedTools: [FLAG] }, /must not start with '-'/],
  ])('refuses %s', (_name, fields, message) => {
    expect(provider.refusal(request(fields))).toMatch(message);
  });

  it('accepts safe sessions and tool patterns', () => {
    expect(provider.refusal(request({ resume: true, sessionId: '0b6c6f4e-1c1e-4c43-9a55-6b0b1d1d2f3a', allowedTools: ['Bash(git *)'], disallowedTools: ['WebFetch'] }))).toBeUndefined();
  });

  it('answers a refused request with invalid_request without starting the CLI', async () => {
    const outcome = await provider.run(request({ resume: true, sessionId: FLAG }), new AbortController().signal, {
      spawned: () => {
        throw new Error('must not spawn');
      },
      progress: () => undefined,
    });
    expect(outcome).toMatchObject({ ok: false, code: 'invalid_request', retryable: false });
  });
});
