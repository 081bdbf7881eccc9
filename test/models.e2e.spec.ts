import { CompletionWatcher, fakeClaudeDaemon, optionValues, useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';

describe('models (real daemon, fake Claude CLI)', () => {
  describe('with KSI_DEFAULT_MODEL=claude-cli/opus', () => {
    const { daemon, client, send } = useFakeClaudeDaemon({ env: { KSI_DEFAULT_MODEL: 'claude-cli/opus' } });
    const modelOf = async (prompt: string): Promise<string[]> =>
      optionValues((await eventually(() => daemon.invocations().find((entry) => entry.stdin === prompt), 20_000, `"${prompt}" to reach the CLI`))?.argv ?? [], '--model');

    it('a request that names no model runs the default', async () => {
      const watcher = new CompletionWatcher(client());
      const { request_id } = await send('completion:async', { prompt: 'no model named' });
      expect((await watcher.end(request_id)).event).toBe('completion:result');
      expect(await modelOf('no model named')).toEqual(['opus']);
    });

    it('an agent whose composition names no model gets the default', async () => {
      const spawned = await send('agent:spawn', { profile: 'base_agent', agent_id: 'defaulted' });
      expect(spawned.model).toBe('claude-cli/opus');
      await send('agent:send_message', { agent_id: 'defaulted', message: { prompt: 'agent turn' } });
      expect(await modelOf('agent turn')).toEqual(['opus']);
    });

    it.each([
      ['claude-cli/sonnet[1m]', 'sonnet[1m]'],
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929'],
      ['claude-cli/fable', 'fable'],
    ])('passes %s to the CLI as --model=%s, for requests and agents', async (model, cliModel) => {
      const watcher = new CompletionWatcher(client());
      const prompt = `request with ${model}`;
      const { request_id } = await send('completion:async', { prompt, model });
      expect((await watcher.end(request_id)).event).toBe('completion:result');
      expect(await modelOf(prompt)).toEqual([cliModel]);
      const agentId = `agent-${cliModel.replace(/[^a-z0-9]/g, '')}`;
      expect(await send('agent:spawn', { profile: 'base_agent', agent_id: agentId, config: { model } })).toMatchObject({ model });
      await send('agent:send_message', { agent_id: agentId, message: { prompt: `agent with ${model}` } });
      expect(await modelOf(`agent with ${model}`)).toEqual([cliModel]);
    });

    it('refuses an agent with a model no provider takes, before creating anything', async () => {
      await expect(send('agent:spawn', { profile: 'base_agent', agent_id: 'wrong', config: { model: 'gpt/4' } })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'config.model' }] });
      expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain('wrong');
    });
  });

  it.each(['gpt/4', 'claude-cli/', 'sonnet 4'])('a bad KSI_DEFAULT_MODEL (%s) stops the start with one line naming it', async (model) => {
    const daemon = fakeClaudeDaemon({ env: { KSI_DEFAULT_MODEL: model } });
    try {
      await expect(daemon.start()).rejects.toThrow(/exited with 1/);
      const lines = daemon.output.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/KSI_DEFAULT_MODEL must be claude-cli\/<model>/);
    } finally {
      await daemon.dispose();
    }
  });
});
