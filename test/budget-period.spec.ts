import { eventually, FAKE_CLAUDE } from './support/daemon-process';
import { ManualClock, startInProcess, type InProcessDaemon } from './support/in-process-daemon';
import { RawConnection } from './support/raw-connection';

describe('a daily budget (real AppModule, SQLite and fake Claude CLI; injected clock)', () => {
  /** One second before a UTC midnight: the budget's day ends a second after it is found spent. */
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 23, 59, 59));
  let daemon: InProcessDaemon;
  let connection: RawConnection;
  const send = async (event: string, data: Record<string, unknown> = {}) => (await connection.request({ event, data })).data as Record<string, any>;

  beforeAll(async () => {
    daemon = await startInProcess([], { clock, env: { CLAUDE_BIN: FAKE_CLAUDE } });
    connection = await RawConnection.open(daemon.config.socketPath);
  });
  afterAll(async () => {
    connection.close();
    await daemon.close();
  });

  it('stops an agent once its day is spent, and runs its waiting message when the next UTC day begins', async () => {
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'daily' });
    expect(await send('budget:set', { scope: 'agent', id: 'daily', limit_usd: 0.5, period: 'day' })).toMatchObject({
      period_start: Date.UTC(2026, 0, 1) / 1000,
      period_end: Date.UTC(2026, 0, 2) / 1000,
    });
    await send('agent:send_message', { agent_id: 'daily', message: { prompt: '[[cost:0.5]] first' } });
    await send('agent:send_message', { agent_id: 'daily', message: { prompt: '[[cost:0.2]] second' } });
    await eventually(async () => (await send('agent:info', { agent_id: 'daily' })).status === 'budget_exhausted', 30_000, 'the agent stopped by its day budget');
    // The first turn spent the whole day, so the CLI stopped it at its cap; the second waits.
    expect(await send('agent:info', { agent_id: 'daily' })).toMatchObject({ pending_messages: 1, failed_messages: 1 });

    clock.advance(2_000);
    await eventually(async () => {
      const agent = await send('agent:info', { agent_id: 'daily' });
      return agent.status === 'idle' && agent.pending_messages === 0;
    }, 30_000, 'the second message answered on the new day');
    expect(await send('budget:status', { scope: 'agent', id: 'daily' })).toMatchObject({ spent_usd: 0.2, exhausted: false, period_start: Date.UTC(2026, 0, 2) / 1000 });
  });
});
