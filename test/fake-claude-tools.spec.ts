import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FAKE_CLAUDE } from './support/daemon-process';

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'recorded', 'claude-2.1-tools.json'), 'utf8')) as { tools_by_default: string[]; tools_without_bash: string[] };

/** The tools the fake's system/init line lists when run with these options. */
function initTools(...options: string[]): string[] {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-claude-tools-'));
  try {
    const run = spawnSync(process.execPath, [FAKE_CLAUDE, '-p', '--output-format', 'stream-json', '--verbose', '--model=sonnet', ...options], {
      input: 'hi',
      encoding: 'utf8',
      env: { ...process.env, FAKE_CLAUDE_STATE_DIR: stateDir },
    });
    return JSON.parse(run.stdout.split('\n')[0]).tools;
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

describe("the fake Claude CLI's system/init tools are the recorded ones", () => {
  it('by default', () => {
    expect(initTools()).toEqual(recorded.tools_by_default);
  });

  it('with Bash disallowed: Glob and Grep instead', () => {
    expect(initTools('--disallowedTools=Bash')).toEqual(recorded.tools_without_bash);
  });
});
