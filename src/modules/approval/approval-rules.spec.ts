import { argumentOf, matchingRule, subjectOf } from './approval-rules';

describe('approval rules', () => {
  const match = (rules: string[], tool: string, input: Record<string, unknown>) => {
    const subject = subjectOf(tool, input);
    return matchingRule(rules, tool, argumentOf(subject, tool));
  };

  it('names a call by its tool and the input field that says what it acts on', () => {
    expect(subjectOf('Bash', { command: 'git status --short', description: 'x' })).toBe('Bash(git status --short)');
    expect(subjectOf('Read', { file_path: '/srv/data/a.txt' })).toBe('Read(/srv/data/a.txt)');
    expect(subjectOf('TaskList', {})).toBe('TaskList');
    expect(subjectOf('mcp__db__query', { sql: 'select 1' })).toBe('mcp__db__query({"sql":"select 1"})');
  });

  it('matches a bare tool name (or glob) whatever the argument', () => {
    expect(match(['WebFetch'], 'WebFetch', { url: 'https://example.com/' })).toBe('WebFetch');
    expect(match(['mcp__*'], 'mcp__db__query', { sql: 'x' })).toBe('mcp__*');
    expect(match(['Web*'], 'Bash', { command: 'ls' })).toBeUndefined();
  });

  it('matches Tool(glob) on the argument, where * also spans slashes and spaces', () => {
    expect(match(['Bash(git status*)'], 'Bash', { command: 'git status --short' })).toBe('Bash(git status*)');
    expect(match(['Bash(git status*)'], 'Bash', { command: 'git push origin main' })).toBeUndefined();
    expect(match(['Read(/srv/data/*)'], 'Read', { file_path: '/srv/data/deep/file.txt' })).toBe('Read(/srv/data/*)');
    expect(match(['Bash(git status*)'], 'TaskList', {})).toBeUndefined();
  });

  it('ignores a malformed rule rather than matching everything', () => {
    expect(match(['(', '()'], 'Bash', { command: 'rm -rf /' })).toBeUndefined();
  });
});
