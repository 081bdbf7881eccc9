import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { CompletionWatcher, fakeClaudeDaemon, optionValues, useFakeClaudeDaemon } from './support/completions';
import { onDaemonDatabase } from './support/daemon-database';
import { eventually } from './support/daemon-process';
import { background } from './support/ksi-cli';

describe('streamed turns of the Claude CLI (real daemon, fake CLI in stream-json)', () => {
  const { daemon, client, send } = useFakeClaudeDaemon();
  let watcher: CompletionWatcher;
  beforeAll(() => {
    watcher = new CompletionWatcher(client());
  });

  const submit = async (data: Record<string, unknown>): Promise<string> => (await send('completion:async', data)).request_id;
  const progressOf = (id: string) => watcher.of(id).filter((line) => line.event === 'completion:progress').map((line) => line.data);

  it('pushes api_retry, tool_use and streaming deltas in order before completion:result, each text once, joined rather than one push per delta', async () => {
    const prompt = 'tell me [[api_retry:2]] [[tool_use:Read]] [[chunks:40]]';
    const id = await submit({ prompt });
    const end = await watcher.end(id);
    expect(watcher.of(id).at(-1)).toBe(end);
    expect(end.event).toBe('completion:result');
    const progress = progressOf(id);
    expect(progress.slice(0, 5).map((entry) => entry.status)).toEqual(['calling_llm', 'api_retry', 'api_retry', 'tool_use', 'streaming']);
    const streamed = progress.slice(4);
    expect(streamed.every((entry) => entry.status === 'streaming')).toBe(true);
    // The fake writes its 40 deltas at once: the first is pushed at once, the rest joined.
    expect(streamed.length).toBeLessThan(40);
    expect(progress[1]).toMatchObject({ request_id: id, attempt: 1, api_attempt: 1, status: 'api_retry', max_retries: 10, retry_delay_ms: 500, error: 'overloaded', error_status: 529 });
    expect(progress[2]).toMatchObject({ status: 'api_retry', attempt: 1, api_attempt: 2, retry_delay_ms: 1000 });
    expect(progress[3]).toMatchObject({ request_id: id, status: 'tool_use', tool: 'Read', tool_use_id: expect.stringMatching(/^toolu_/) });
    const text = progress.filter((entry) => entry.status === 'streaming').map((entry) => entry.delta as string);
    expect(text.join('')).toBe(`echo: ${prompt}`);
    expect(end.data.result.response).toMatchObject({ result: `echo: ${prompt}`, num_turns: 2, is_error: false });
  });

  it('fails a permanent failure in one attempt with the CLI sentence as the error', async () => {
    const id = await submit({ prompt: 'who am I [[auth]]' });
    const end = await watcher.end(id);
    expect(end).toMatchObject({ event: 'completion:error', data: { request_id: id, code: 'auth_error', attempts: 1, error: 'Invalid API key · Please run /login' } });
    expect(progressOf(id).map((entry) => entry.status)).toEqual(['calling_llm']);
    expect(daemon.invocations().filter((entry) => entry.stdin === 'who am I [[auth]]')).toHaveLength(1);
  });

  it('fails a resume of an unknown session in one attempt with the CLI sentence', async () => {
    const unknown = '3e9f9b7b-4f4b-4f76-8d88-9e3e4f4f5b6d';
    const end = await watcher.end(await submit({ prompt: 'remember me?', session_id: unknown }));
    expect(end).toMatchObject({ event: 'completion:error', data: { code: 'session_not_found', attempts: 1, error: `No conversation found with session ID: ${unknown}` } });
  });

  it.each([
    ['a turn limit', 'long task [[max_turns]]', 'max_turns', 1],
    ['an overloaded API', 'busy [[overloaded]]', 'overloaded', 3],
  ])('classifies %s (%s) as %s after %d attempt(s)', async (_name, prompt, code, attempts) => {
    const end = await watcher.end(await submit({ prompt, max_turns: 2 }), 30_000);
    expect(end).toMatchObject({ event: 'completion:error', data: { code, attempts } });
  });

  it('a resumed turn keeps its session id, and the next turn resumes it again', async () => {
    const first = await watcher.end(await submit({ prompt: 'first words' }));
    const session = first.data.session_id as string;
    const second = await watcher.end(await submit({ prompt: 'second words', session_id: session }));
    expect(second.data.session_id).toBe(session);
    const third = await watcher.end(await submit({ prompt: 'third words', session_id: session }));
    expect(third.data.session_id).toBe(session);
    expect(optionValues(daemon.invocations().find((entry) => entry.stdin === 'third words')!.argv, '--resume')).toEqual([session]);
    expect(await send('completion:session_status', { session_id: session })).toMatchObject({ root_session_id: session, newest_session_id: session, chain: [session] });
  });

  it('`ksi complete --wait` prints the streamed text while the turn still runs, tool use on stderr, the text once', async () => {
    const gate = path.join(daemon.varDir, 'cli-stream-may-finish');
    const prompt = `cli stream [[tool_use:Grep]] [[chunks:2]] [[result_after:${gate}]]`;
    const { stdout, stderr, exit } = background(['complete', prompt, '--wait'], { KSI_SOCKET_PATH: daemon.socketPath });
    await eventually(() => stdout().includes(`echo: ${prompt}`), 10_000, 'the streamed text on stdout');
    const requestId = /queued (\S+)/.exec(stderr())![1];
    // The fake holds the result line back until the gate exists: the text came from the stream, not from the result.
    expect(await send('completion:status', { request_id: requestId })).toMatchObject({ status: 'processing' });
    fs.writeFileSync(gate, '');
    expect(await exit).toBe(0);
    expect(stdout()).toBe(`echo: ${prompt}\n`);
    expect(stderr()).toContain('using Grep');
  });
});

describe('`ksi complete --wait` across a restart of the daemon', () => {
  const daemon = fakeClaudeDaemon();
  afterAll(() => daemon.dispose());

  it('asks for its request again until the daemon is back, and prints the answer once', async () => {
    await daemon.start();
    const gate = path.join(daemon.varDir, 'answer-after-restart');
    const prompt = `across a restart [[result_after:${gate}]]`;
    const { stdout, stderr, exit } = background(['complete', prompt, '--wait'], { KSI_SOCKET_PATH: daemon.socketPath });
    await eventually(() => stdout().includes(`echo: ${prompt}`), 10_000, 'the text of the first attempt on stdout');
    // A stop interrupts the attempt; the restarted daemon runs the request again.
    await daemon.stop();
    await daemon.start();
    await eventually(() => daemon.invocations().filter((entry) => entry.stdin === prompt).length === 2, 20_000, 'the attempt run again after the restart');
    await eventually(() => stderr().includes('reaching it again'), 10_000, 'the CLI saying it reaches the daemon again');
    fs.writeFileSync(gate, '');
    expect(await exit).toBe(0);
    // The first attempt's text was the beginning of the answer: only the rest (here nothing) is added.
    expect(stdout()).toBe(`echo: ${prompt}\n`);
    const requestId = /queued (\S+)/.exec(stderr())![1];
    const queued = await onDaemonDatabase<{ n: number }>(daemon.varDir, 'SELECT COUNT(*) AS n FROM completion_requests WHERE payload LIKE ?', ['%across a restart%']);
    expect(Number(queued[0].n)).toBe(1);
    const client = daemon.client();
    expect(await client.sendSingle('completion:status', { request_id: requestId })).toMatchObject({ status: 'completed', attempts: 2 });
    await client.close();
  });
});

/**
 * A relay in front of the daemon's socket whose first connection is cut when the daemon's first
 * reply comes back: the request was accepted, its answer lost, as when a daemon dies right after
 * queuing. Later connections are passed through once `release` is called.
 */
function cutFirstReply(daemonSocket: string, relaySocket: string): { release: () => void; close: () => Promise<void> } {
  let connections = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const links = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const first = ++connections === 1;
    client.pause();
    void (first ? Promise.resolve() : released).then(() => {
      const daemon = net.createConnection(daemonSocket);
      for (const socket of [client, daemon]) {
        links.add(socket);
        socket.on('close', () => links.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('close', () => daemon.destroy());
      daemon.on('close', () => client.destroy());
      client.pipe(daemon);
      client.resume();
      if (!first) return void daemon.pipe(client);
      daemon.once('data', () => {
        client.destroy();
        daemon.destroy();
      });
    });
  });
  server.listen(relaySocket);
  return {
    release,
    close: () => {
      for (const socket of links) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('`ksi complete` when the connection is lost before the answer', () => {
  const daemon = fakeClaudeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  const requestsOf = async (prompt: string) =>
    onDaemonDatabase<{ request_id: string; status: string }>(daemon.varDir, 'SELECT request_id, status FROM completion_requests WHERE payload LIKE ?', [`%${prompt}%`]);

  it('asks for its request again under the same id: queued once, and its id printed', async () => {
    const relaySocket = path.join(daemon.varDir, 'cut-once.sock');
    const relay = cutFirstReply(daemon.socketPath, relaySocket);
    relay.release();
    const prompt = 'reply lost once';
    const { stdout, stderr, exit } = background(['complete', prompt], { KSI_SOCKET_PATH: relaySocket });
    expect(await exit).toBe(0);
    await relay.close();
    const requestId = stdout().trim();
    expect(stderr()).toContain(`asking for request ${requestId} again`);
    const requests = await requestsOf(prompt);
    expect(requests.map((row) => row.request_id)).toEqual([requestId]);
    await eventually(async () => (await requestsOf(prompt))[0].status === 'completed', 10_000, 'the request completed');
    expect(daemon.invocations().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });

  it('with --wait, prints the answer of a request that ended while it was away, from its record', async () => {
    const relaySocket = path.join(daemon.varDir, 'cut-then-hold.sock');
    const relay = cutFirstReply(daemon.socketPath, relaySocket);
    const prompt = 'ended while away';
    const { stdout, stderr, exit } = background(['complete', prompt, '--wait'], { KSI_SOCKET_PATH: relaySocket });
    // Held until the request ended, so that its end was pushed to no one.
    await eventually(async () => (await requestsOf(prompt))[0]?.status === 'completed', 10_000, 'the request completed');
    relay.release();
    // At once, from the record: not after the 30 s of silence that would also end in reading it.
    let code: number | null | undefined;
    void exit.then((exited) => (code = exited));
    await eventually(() => code !== undefined, 10_000, 'the CLI done within 10 s of reaching the daemon again');
    expect(code).toBe(0);
    await relay.close();
    expect(stdout()).toBe(`echo: ${prompt}\n`);
    expect(stderr()).toContain('asking for request');
    expect(await requestsOf(prompt)).toHaveLength(1);
    expect(daemon.invocations().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });
});
