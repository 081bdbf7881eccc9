import { optionValues, useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';

describe("an agent's Claude CLI tools (real daemon)", () => {
  const { daemon, send } = useFakeClaudeDaemon();
  const argvOf = async (prompt: string): Promise<string[]> =>
    (await eventually(() => daemon.invocations().find((entry) => entry.stdin === prompt), 20_000, `the turn "${prompt}" to start the CLI`))?.argv ?? [];

  it("pre-approves its profile's tools and its own KSI tools, and removes the disallowed ones", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'reader', permission_profile: 'restricted' });
    await send('agent:send_message', { agent_id: 'reader', message: { prompt: 'look around' } });
    const argv = await argvOf('look around');
    expect(optionValues(argv, '--allowedTools')).toEqual(['Read', 'Glob', 'Grep', 'ToolSearch', 'mcp__ksi']);
    expect(optionValues(argv, '--disallowedTools')).toEqual(expect.arrayContaining(['Bash', 'Edit', 'Write', 'NotebookEdit', 'Cron*']));
    expect(optionValues(argv, '--mcp-config')).toHaveLength(1);
  });

  it('gives a trusted agent every built-in tool and its KSI tools', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'doer', permission_profile: 'trusted' });
    await send('agent:send_message', { agent_id: 'doer', message: { prompt: 'do it' } });
    const argv = await argvOf('do it');
    expect(optionValues(argv, '--allowedTools')).toEqual(expect.arrayContaining(['Bash', 'Task', 'NotebookEdit', 'WebFetch', 'Workflow', 'mcp__ksi']));
    expect(optionValues(argv, '--disallowedTools')).toEqual([]);
  });
});
