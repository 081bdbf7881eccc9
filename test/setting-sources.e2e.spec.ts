import { eventually } from './support/daemon-process';
import { optionValues, useFakeClaudeDaemon } from './support/completions';

/** An agent's workspace is agent-writable: its turns load only the user's settings, never the workspace's hooks. */
describe('which settings the Claude CLI loads (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();
  const argvOf = (prompt: string) => eventually(() => daemon.invocations().find((entry) => entry.stdin === prompt)?.argv, 10_000, `the CLI ran '${prompt}'`);

  it("an agent's turn, and a request made for an agent, load only the user's settings", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'settled' });
    await send('agent:send_message', { agent_id: 'settled', message: { prompt: 'agent turn' } });
    expect(optionValues((await argvOf('agent turn'))!, '--setting-sources')).toEqual(['user']);
    await send('completion:async', { prompt: 'for the agent', agent_id: 'settled' });
    expect(optionValues((await argvOf('for the agent'))!, '--setting-sources')).toEqual(['user']);
  });

  it("an operator's request without an agent keeps the CLI's default", async () => {
    await send('completion:async', { prompt: 'operator turn' });
    expect(optionValues((await argvOf('operator turn'))!, '--setting-sources')).toEqual([]);
  });
});
