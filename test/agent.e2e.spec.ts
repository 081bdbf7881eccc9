import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually } from './support/daemon-process';
import { fakeClaudeDaemon, optionValues, useFakeClaudeDaemon } from './support/completions';
import { onDaemonDatabase } from './support/daemon-database';
import { postgresCluster } from './support/test-database';
import { ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';
import { alive } from './support/processes';

// Each `ksi` call is a Node process start (0.6 s idle, 1-2 s on a loaded machine) and these tests make a dozen.
jest.setTimeout(60_000);

describe('agents with the fake Claude CLI (real daemon)', () => {
  const { daemon, send, reconnect } = useFakeClaudeDaemon();
  const answered = (prompt: string) => daemon.answered().filter((entry) => entry.stdin === prompt).length;
  const invocation = (prompt: string) => daemon.invocations().find((entry) => entry.stdin === prompt);

  it('runs a direct message to an agent as a turn even while a connection of its own subscribed to direct messages', async () => {
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'subscribed' });
    const { token } = await send('permission:issue_token', { agent_id: 'subscribed' });
    const own = await RawConnection.open(daemon.socketPath);
    expect((await own.request({ event: 'system:identify', data: { agent_id: 'subscribed', token } })).data).toMatchObject({ identified: true });
    expect((await own.request({ event: 'message:subscribe', data: { event_types: ['DIRECT_MESSAGE', 'AGENT_RESULT'] } })).data).toMatchObject({ subscriber: 'subscribed' });
    const watcher = await RawConnection.open(daemon.socketPath);
    await watcher.request({ event: 'message:subscribe', data: { event_types: ['AGENT_RESULT'] } });
    expect(await send('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'subscribed', message: { prompt: 'sent while subscribed' } })).toMatchObject({ delivered: ['subscribed'] });
    const [result] = await watcher.read(1, 10_000);
    expect(result).toMatchObject({ event: 'message:delivered', data: { type: 'AGENT_RESULT', from: 'subscribed', text: 'echo: sent while subscribed' } });
    expect(answered('sent while subscribed')).toBe(1);
    // Another agent's result is pushed to the connection that subscribed to results, not made a turn of the subscriber's.
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'unrelated' });
    await send('agent:send_message', { agent_id: 'unrelated', message: { prompt: 'a result for subscribers' } });
    const [pushed] = await own.read(1, 10_000);
    expect(pushed).toMatchObject({ event: 'message:delivered', data: { type: 'AGENT_RESULT', from: 'unrelated' } });
    expect((await send('agent:info', { agent_id: 'subscribed' })).pending_messages).toBe(0);
    expect((await watcher.read(1, 10_000))[0].data).toMatchObject({ type: 'AGENT_RESULT', from: 'unrelated' });
    expect(daemon.invocations().filter((entry) => entry.stdin.includes('a result for subscribers'))).toHaveLength(1);
    [own, watcher].forEach((connection) => connection.close());
  });

  it('runs messages as turns on the agent’s session, with the profile’s model and prompt, and publishes the results', async () => {
    const watcher = await RawConnection.open(daemon.socketPath);
    await watcher.request({ event: 'message:subscribe', data: { event_types: ['AGENT_RESULT'] } });
    const spawned = await send('agent:spawn', { profile: 'conversationalist', agent_id: 'talker' });
    expect(spawned).toMatchObject({ agent_id: 'talker', status: 'idle', role: 'conversationalist', permission_profile: 'standard', model: 'claude-cli/sonnet' });
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'listener' });

    await send('agent:send_message', { agent_id: 'talker', message: { prompt: 'first turn' } });
    const [first] = await watcher.read(1);
    expect(first).toMatchObject({ event: 'message:delivered', data: { type: 'AGENT_RESULT', from: 'talker', text: 'echo: first turn', in_reply_to: { prompt: 'first turn' } } });
    await send('agent:send_message', { agent_id: 'talker', message: { content: 'second turn' } });
    const [second] = await watcher.read(1);
    expect(second.data.text).toBe('echo: second turn');

    const one = invocation('first turn')?.argv ?? [];
    expect(one.slice(0, 6)).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model=sonnet']);
    expect(optionValues(one, '--append-system-prompt')).toEqual([expect.stringContaining('You are talker')]);
    expect(optionValues(one, '--resume')).toEqual([]);
    const two = invocation('second turn')?.argv ?? [];
    expect(optionValues(two, '--resume')).toEqual([first.data.session_id]);
    expect(optionValues(two, '--append-system-prompt')).toEqual([]);
    expect(invocation('second turn')?.cwd).toBe(spawned.sandbox);
    expect((await send('agent:info', { agent_id: 'talker' })).session_id).toBe(second.data.session_id);
    expect(answered('first turn') + answered('second turn')).toBe(2);
    watcher.close();
  });

  it('delivers a direct message sent before the agent existed once it starts', async () => {
    expect(await send('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'latecomer', message: { prompt: 'waiting for you' } })).toMatchObject({ status: 'queued' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'latecomer' });
    await eventually(() => answered('waiting for you') === 1);
  });

  it('delivers a broadcast exactly once to each of five agents, with no echo', async () => {
    for (let i = 0; i < 5; i++) await send('agent:spawn', { profile: 'base_agent', agent_id: `crowd-${i}` });
    const { peers } = await send('agent:discover_peers', { agent_id: 'crowd-0' });
    expect(peers.map((peer: { agent_id: string }) => peer.agent_id)).toEqual(expect.arrayContaining(['crowd-1', 'crowd-2', 'crowd-3', 'crowd-4']));
    expect(peers.map((peer: { agent_id: string }) => peer.agent_id)).not.toContain('crowd-0');
    const result = await send('agent:broadcast', { message: { prompt: 'everyone listen' }, sender: 'crowd-0' });
    expect(result).toMatchObject({ agents_reached: expect.any(Number) });
    await eventually(() => answered('everyone listen') === result.agents_reached);
    // Each inbox runs in order: once every agent answered a second broadcast, no copy of the first is still on its way.
    const barrier = await send('agent:broadcast', { message: { prompt: 'barrier' }, sender: 'crowd-0' });
    await eventually(() => answered('barrier') === barrier.agents_reached);
    expect(answered('everyone listen')).toBe(result.agents_reached);
    for (let i = 1; i < 5; i++) expect(daemon.invocations().filter((entry) => entry.stdin === 'everyone listen' && entry.cwd.includes(`crowd-${i}`))).toHaveLength(1);
    expect(daemon.invocations().some((entry) => entry.stdin === 'everyone listen' && entry.cwd.includes('crowd-0'))).toBe(false);
  });

  it('terminate stops the running turn and the agent disappears', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'doomed' });
    await send('agent:send_message', { agent_id: 'doomed', message: { prompt: 'forever [[hang]]' } });
    const pid = (await eventually(() => invocation('forever [[hang]]')))!.pid;
    expect(await send('agent:terminate', { agent_id: 'doomed' })).toEqual({ agent_id: 'doomed', status: 'terminated' });
    await eventually(() => !alive(pid));
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain('doomed');
    expect(await send('agent:send_message', { agent_id: 'doomed', message: { prompt: 'x' } })).toMatchObject({ code: 'not_found' });
  });

  it('terminate bars a turn being started (named, not yet queued): it cannot be queued after the agent is gone', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'cut-short' });
    // As the agent's node leaves it between claiming the message and queuing its turn.
    await onDaemonDatabase(daemon.varDir, `INSERT INTO agent_messages (agent_id, message, status, request_id, created_at) VALUES (?, ?, 'processing', ?, 0)`, ['cut-short', '{"prompt":"too late"}', 'turn-being-started']);
    expect(await send('agent:terminate', { agent_id: 'cut-short' })).toEqual({ agent_id: 'cut-short', status: 'terminated' });
    // The node's upkeep may find the hand-made row first and bar it as a turn its node left (run 28): barred either way.
    expect(await send('completion:status', { request_id: 'turn-being-started' })).toMatchObject({ status: 'cancelled', error: expect.stringMatching(/^Never queued: (its agent was terminated first|the node that took this turn of the agent died before queuing it)/) });
    const late = { request_id: 'turn-being-started', prompt: 'too late', agent_id: 'cut-short', conversation_id: 'agent:cut-short' };
    expect(await send('completion:async', late)).toMatchObject({ code: 'already_exists' });
    expect(invocation('too late')).toBeUndefined();
  });

  it('terminate ends the requests others made for the agent too: they would run without its workspace and rights', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'asked-for' });
    const running = await send('completion:async', { prompt: 'for the agent [[hang]]', agent_id: 'asked-for', conversation_id: 'for-agent-running' });
    const queued = await send('completion:async', { prompt: 'also for the agent', agent_id: 'asked-for', conversation_id: 'for-agent-running' });
    await eventually(() => invocation('for the agent [[hang]]') !== undefined);
    expect(await send('agent:terminate', { agent_id: 'asked-for' })).toEqual({ agent_id: 'asked-for', status: 'terminated' });
    for (const { request_id } of [running, queued]) expect(await send('completion:status', { request_id })).toMatchObject({ status: 'cancelled' });
    expect(invocation('also for the agent')).toBeUndefined();
  });

  it('claims a message with the id of the request that will answer it, before queuing that request', async () => {
    // The database refuses the turn's request: what is left is the claim alone.
    if (postgresCluster()) {
      await onDaemonDatabase(daemon.varDir, `CREATE FUNCTION refuse_turns() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await onDaemonDatabase(daemon.varDir, `CREATE TRIGGER refuse_turns BEFORE INSERT ON completion_requests FOR EACH ROW WHEN (NEW.agent_id = 'unqueued') EXECUTE FUNCTION refuse_turns()`);
    } else {
      await onDaemonDatabase(daemon.varDir, `CREATE TRIGGER refuse_turns BEFORE INSERT ON completion_requests WHEN NEW.agent_id = 'unqueued' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    }
    try {
      await send('agent:spawn', { profile: 'base_agent', agent_id: 'unqueued' });
      await send('agent:send_message', { agent_id: 'unqueued', message: { prompt: 'never queued' } });
      await eventually(async () => (await send('agent:info', { agent_id: 'unqueued' })).failed_messages === 1, 10_000, 'the turn failed to queue');
      const [message] = await onDaemonDatabase<{ requestId: string | null }>(daemon.varDir, 'SELECT request_id AS "requestId" FROM agent_messages WHERE agent_id = ?', ['unqueued']);
      expect(message.requestId).toEqual(expect.any(String));
      expect(await send('completion:status', { request_id: message.requestId })).toMatchObject({ code: 'not_found' });
    } finally {
      await onDaemonDatabase(daemon.varDir, postgresCluster() ? 'DROP TRIGGER refuse_turns ON completion_requests' : 'DROP TRIGGER refuse_turns');
    }
  });

  it('assigns a task to an idle agent with the capabilities, and keeps identities', async () => {
    await send('agent:spawn', { profile: 'researcher', agent_id: 'finder' });
    const assigned = await send('message:publish', { event_type: 'TASK_ASSIGNMENT', message: { prompt: 'research this', required_capabilities: ['research'] } });
    expect(assigned).toMatchObject({ status: 'delivered', delivered: ['finder'] });
    await eventually(() => answered('research this') === 1);
    expect(await send('message:publish', { event_type: 'TASK_ASSIGNMENT', message: { prompt: 'x', required_capabilities: ['juggling'] } })).toMatchObject({ code: 'invalid_params', error: 'No capable agent found' });

    expect(await send('agent:create_identity', { agent_id: 'finder', identity: { name: 'Fern', role: 'researcher' } })).toMatchObject({ status: 'created' });
    expect((await send('agent:update_identity', { agent_id: 'finder', updates: { mood: 'curious' } })).identity).toMatchObject({ name: 'Fern', mood: 'curious' });
    expect((await send('agent:list_identities')).count).toBe(1);
    await send('agent:remove_identity', { agent_id: 'finder' });
    expect(await send('agent:get_identity', { agent_id: 'finder' })).toMatchObject({ code: 'not_found' });
  });

  it('restart keeps the session; the CLI spawns, lists, sends, shows logs and terminates', async () => {
    const env = { KSI_SOCKET_PATH: daemon.socketPath };
    expect((await ksi(['agent', 'spawn', 'coder', '--id', 'cli-agent'], env)).stdout).toContain('agent_id: cli-agent');
    expect((await ksi(['agent', 'list'], env)).stdout).toMatch(/cli-agent\s+idle\s+coder\s+coder/);
    await ksi(['agent', 'send', 'cli-agent', 'write a test'], env);
    await eventually(() => answered('write a test') === 1);
    const session = await eventually(async () => (await send('agent:info', { agent_id: 'cli-agent' })).session_id);
    const restarted = await send('agent:restart', { agent_id: 'cli-agent' });
    expect(restarted).toMatchObject({ agent_id: 'cli-agent', status: 'idle', session_id: session });
    const logs = await ksi(['agent', 'logs', 'cli-agent'], env);
    expect(logs.stdout).toContain('write a test');
    expect(logs.stdout).toContain('echo: write a test');
    expect((await ksi(['conversation', 'list'], env)).stdout).toContain(session);
    expect((await ksi(['conversation', 'show', session], env)).stdout).toContain('echo: write a test');
    expect((await ksi(['agent', 'terminate', 'cli-agent'], env)).stdout).toBe('terminated cli-agent\n');
    expect((await ksi(['agent', 'send', 'cli-agent', 'x'], env)).code).toBe(1);
  });

  it('agents come back after a daemon restart and continue their session', async () => {
    const before = (await send('agent:info', { agent_id: 'talker' })).session_id;
    await daemon.stop('SIGTERM');
    await daemon.start();
    await reconnect();
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).toContain('talker');
    await send('agent:send_message', { agent_id: 'talker', message: { prompt: 'after restart' } });
    await eventually(() => answered('after restart') === 1);
    const argv = invocation('after restart')?.argv ?? [];
    expect(optionValues(argv, '--resume')).toEqual([before]);
  });

  it('refuses a message without non-empty text for the turn, naming the field, and runs no turn for it', async () => {
    const spawned = await send('agent:spawn', { profile: 'conversationalist', agent_id: 'chat' });
    const refused: [Record<string, unknown>, string][] = [
      [{}, 'message.prompt'],
      [{ prompt: '' }, 'message.prompt'],
      [{ prompt: '  ' }, 'message.prompt'],
      [{ prompt: 5 }, 'message.prompt'],
      [{ content: 'the turn', text: [] }, 'message.text'],
    ];
    for (const [message, field] of refused) {
      await expect(send('agent:send_message', { agent_id: 'chat', message })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: field }] });
    }
    const env = { KSI_SOCKET_PATH: daemon.socketPath };
    const empty = await ksi(['agent', 'send', 'chat', ''], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('message.prompt');
    // Discovery shows which fields carry the turn.
    const { parameters } = await send('system:help', { event: 'agent:send_message' });
    expect(parameters.properties.message).toMatchObject({ properties: { prompt: { type: 'string', pattern: '\\S' } }, description: expect.stringContaining('one of them is required') });

    await send('agent:send_message', { agent_id: 'chat', message: { text: 'by its text' } });
    await eventually(() => answered('by its text') === 1);
    expect(daemon.invocations().filter((entry) => entry.cwd === spawned.sandbox).map((entry) => entry.stdin)).toEqual(['by its text']);
  });
});

describe('an agent whose turn fails', () => {
  const { daemon, send } = useFakeClaudeDaemon({ env: { KSI_RETRY_MAX_ATTEMPTS: '1' } });
  const env = () => ({ KSI_SOCKET_PATH: daemon.socketPath });
  const prompt = 'shaky start [[fail:1]]';

  it('shows the failed turn in agent:info, agent list and agent logs, and runs it again on agent:retry', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'stumbler' });
    expect(await send('agent:send_message', { agent_id: 'stumbler', message: { prompt } })).toMatchObject({ status: 'sent' });
    const info = (await eventually(async () => {
      const current = await send('agent:info', { agent_id: 'stumbler' });
      return current.failed_messages === 1 ? current : undefined;
    }))!;
    expect(info.failed_turns).toEqual([
      { message_id: expect.any(Number), prompt, error: 'API Error: Unable to connect to API (ConnectionRefused)', code: 'api_unreachable', failed_at: expect.any(Number) },
    ]);
    const listed = (await ksi(['agent', 'list'], env())).stdout.split('\n').find((line) => line.startsWith('stumbler'));
    expect(listed?.split(/\s+/).slice(4, 6)).toEqual(['0', '1']);
    const logs = (await ksi(['agent', 'logs', 'stumbler'], env())).stdout;
    expect(logs).toContain(`FAILED message ${info.failed_turns[0].message_id} (api_unreachable)`);
    expect(logs).toContain('ksi agent retry stumbler');

    expect((await ksi(['agent', 'retry', 'stumbler'], env())).stdout).toBe(`retrying 1 message(s) of stumbler: ${info.failed_turns[0].message_id}\n`);
    await eventually(() => daemon.answered().some((entry) => entry.stdin === prompt));
    const after = (await eventually(async () => {
      const current = await send('agent:info', { agent_id: 'stumbler' });
      return current.session_id && current.failed_messages === 0 ? current : undefined;
    }))!;
    expect(after.failed_turns).toEqual([]);
    expect((await ksi(['agent', 'logs', 'stumbler'], env())).stdout).toContain(`echo: ${prompt}`);
    expect(await send('agent:retry', { agent_id: 'stumbler', message_id: 999999 })).toMatchObject({ code: 'not_found' });
  });

  it('starts a new session when the CLI no longer knows the agent’s session, and agent:retry runs the failed turn on it', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'amnesiac' });
    await send('agent:send_message', { agent_id: 'amnesiac', message: { prompt: 'remember me' } });
    const lost = (await eventually(async () => (await send('agent:info', { agent_id: 'amnesiac' })).session_id, 10_000, 'the first session'))!;
    fs.rmSync(path.join(daemon.varDir, 'fake-claude-state', 'sessions', lost));

    await send('agent:send_message', { agent_id: 'amnesiac', message: { prompt: 'do you remember?' } });
    const failed = (await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'amnesiac' });
      return info.failed_messages === 1 ? info : undefined;
    }, 10_000, 'the turn on the lost session to fail'))!;
    expect(failed.failed_turns).toEqual([expect.objectContaining({ prompt: 'do you remember?', code: 'session_not_found', error: `No conversation found with session ID: ${lost}` })]);
    expect(failed.session_id).toBeNull();

    await send('agent:retry', { agent_id: 'amnesiac' });
    const recovered = (await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'amnesiac' });
      return info.failed_messages === 0 && info.session_id ? info : undefined;
    }, 10_000, 'the retried turn on a new session'))!;
    expect(recovered.session_id).not.toBe(lost);
    const retried = daemon.invocations().filter((entry) => entry.stdin === 'do you remember?').at(-1);
    expect(optionValues(retried!.argv, '--session-id')).toEqual([recovered.session_id]);
    expect(optionValues(retried!.argv, '--resume')).toEqual([]);
  });
});

describe('agents whose daemon died with a turn in flight', () => {
  // The first run's turns outlast the test; after the restart, turns answer at once.
  const daemon = fakeClaudeDaemon({ env: { FAKE_CLAUDE_SLEEP_MS: '90000' } });
  afterAll(() => daemon.dispose());

  it('settles a turn that ended meanwhile from its request, and queues once a turn claimed but never queued (its id barred)', async () => {
    await daemon.start();
    const client = daemon.client();
    for (const agent_id of ['settled', 'requeued']) {
      await client.sendSingle('agent:spawn', { profile: 'base_agent', agent_id });
      await client.sendSingle('agent:send_message', { agent_id, message: { prompt: `turn of ${agent_id}` } });
    }
    // A message is claimed with its turn's request id, before the request exists.
    const turnOf = (agentId: string) =>
      eventually(async () => {
        const [message] = await onDaemonDatabase<{ requestId: string | null }>(daemon.varDir, `SELECT request_id AS "requestId" FROM agent_messages WHERE agent_id = ? AND status = 'processing'`, [agentId]);
        return message?.requestId ?? undefined;
      }, 10_000, `the turn of ${agentId} claimed`);
    const [settledTurn, requeuedTurn] = [await turnOf('settled'), await turnOf('requeued')];
    await eventually(() => daemon.invocations().filter((entry) => entry.stdin.startsWith('turn of ')).length === 2, 10_000, 'both turns running');
    await client.close();
    await daemon.stop('SIGKILL');
    // As when another node finished the turn before this agent was adopted, and when the node died between the claim and the queuing.
    const session = randomUUID();
    const result = {
      ksi: { provider: 'claude-cli', request_id: settledTurn, timestamp: new Date().toISOString(), duration_ms: 5, attempt: 1, prompt: 'turn of settled', resumed_session_id: null },
      response: { type: 'result', result: 'answered elsewhere', session_id: session },
    };
    await onDaemonDatabase(daemon.varDir, `UPDATE completion_requests SET status = 'completed', result = ?, result_session_id = ?, owner = NULL, lease_expires_at = NULL WHERE request_id = ?`, [JSON.stringify(result), session, settledTurn]);
    await onDaemonDatabase(daemon.varDir, 'DELETE FROM completion_requests WHERE request_id = ?', [requeuedTurn]);

    daemon.env.FAKE_CLAUDE_SLEEP_MS = '0';
    await daemon.start();
    const again = daemon.client();
    await eventually(async () => {
      for (const agent_id of ['settled', 'requeued']) {
        const info = (await again.sendSingle('agent:info', { agent_id })) as { status: string; pending_messages: number };
        if (info.status !== 'idle' || info.pending_messages !== 0) return false;
      }
      const { active_completions } = (await again.sendSingle('completion:status', {})) as { active_completions: number };
      return active_completions === 0;
    }, 20_000, 'both agents idle with nothing queued');
    expect(await again.sendSingle('agent:info', { agent_id: 'settled' })).toMatchObject({ session_id: session });
    // The turn never queued is barred: its node, had it only been paused, could not queue it late.
    expect(await again.sendSingle('completion:status', { request_id: requeuedTurn })).toMatchObject({ status: 'cancelled', error: expect.stringContaining('Never queued') });
    const late = { request_id: requeuedTurn, prompt: 'turn of requeued', agent_id: 'requeued', conversation_id: 'agent:requeued' };
    expect(await again.sendSingle('completion:async', late)).toMatchObject({ code: 'already_exists' });
    await again.close();
    expect(daemon.invocations().filter((entry) => entry.stdin === 'turn of settled')).toHaveLength(1);
    expect(daemon.answered().filter((entry) => entry.stdin === 'turn of requeued')).toHaveLength(1);
    const messages = (agentId: string) => onDaemonDatabase<{ status: string; requestId: string }>(daemon.varDir, 'SELECT status, request_id AS "requestId" FROM agent_messages WHERE agent_id = ?', [agentId]);
    expect(await messages('settled')).toEqual([{ status: 'done', requestId: settledTurn }]);
    const [requeued] = await messages('requeued');
    expect(requeued).toEqual({ status: 'done', requestId: expect.any(String) });
    expect(requeued.requestId).not.toBe(requeuedTurn);
  });
});
