import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { KsiClient, KsiReply } from '../libs/client/src';
import { cliProcessesOf } from '../src/modules/completion/cli-processes';
import { CompletionWatcher, fakeClaudeDaemon, type Invocation } from './support/completions';
import { eventually } from './support/daemon-process';
import { background, ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';
import { postgresCluster } from './support/test-database';

const server = postgresCluster();
/** Short, so that takeovers happen within a test; each scenario stays well under a minute. */
const TTL_MS = 3_000;
/** A run that lasts longer than any test here, so it is still running whenever a test acts on it, however loaded the machine. */
const OUTLASTS_THE_TEST = '90000';

type Node = ReturnType<typeof fakeClaudeDaemon>;
interface Answer {
  pid: number;
  time: number;
  answered: true;
}

/**
 * Daemons on one database of the throwaway cluster, as a user starts them on one host, all logging
 * their fake CLI's starts and answers into one file.
 */
class TestCluster {
  readonly nodes: Node[] = [];
  readonly clients: KsiClient[] = [];
  private readonly log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-cluster-')), 'fake-claude.jsonl');
  private readonly database = `ksi_cluster_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  private url?: string;

  /** Starts node `index` (its id is node-<index>), or starts it again on its var dir. */
  async start(index: number, env: Record<string, string> = {}): Promise<Node> {
    this.url ??= await server!.createDatabase(this.database);
    const node = (this.nodes[index] ??= fakeClaudeDaemon({
      env: {
        KSI_DATABASE_URL: this.url,
        KSI_NODE_ID: `node-${index}`,
        KSI_LEASE_TTL_MS: String(TTL_MS),
        KSI_MAX_CONCURRENT: '2',
        FAKE_CLAUDE_LOG: this.log,
        // One host: its Claude CLI keeps one session store, whichever node runs it.
        FAKE_CLAUDE_STATE_DIR: path.join(path.dirname(this.log), 'claude-sessions'),
        ...env,
      },
    }));
    await node.start();
    await this.clients[index]?.close();
    this.clients[index] = node.client();
    return node;
  }

  /** A connection of the test's own to the cluster's database. */
  async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    return client;
  }

  /** Runs a statement on the cluster's database behind the daemons' backs. */
  async sql(text: string): Promise<void> {
    const client = await this.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }

  /** Every start of the fake CLI, on any node. */
  invocations(): Invocation[] {
    return this.lines().filter((entry): entry is Invocation => !('answered' in entry));
  }

  /** Every answer the fake CLI printed, on any node. */
  answers(): Answer[] {
    return this.lines().filter((entry): entry is Answer => 'answered' in entry);
  }

  startsOf(requestId: string): Invocation[] {
    return this.invocations().filter((entry) => entry.env.KSI_REQUEST_ID === requestId);
  }

  async dispose(): Promise<void> {
    for (const client of this.clients) await client?.close();
    for (const node of this.nodes) await node?.dispose();
    if (this.url) await server!.dropDatabase(this.database);
    fs.rmSync(path.dirname(this.log), { recursive: true, force: true });
  }

  private lines(): (Invocation | Answer)[] {
    if (!fs.existsSync(this.log)) return [];
    return fs
      .readFileSync(this.log, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
  }
}

const submit = async (client: KsiClient, prompt: string, extra: Record<string, unknown> = {}): Promise<string> =>
  ((await client.sendSingle('completion:async', { prompt, model: 'claude-cli/sonnet', ...extra })) as { request_id: string }).request_id;

const statusOf = async (client: KsiClient, requestId: string) =>
  (await client.sendSingle('completion:status', { request_id: requestId })) as { status: string; attempts: number; result?: { ksi: { node_id?: string } } };

/** Waits until every request is running (on whichever node). */
const allRunning = (client: KsiClient, ids: string[]) =>
  eventually(async () => (await Promise.all(ids.map((id) => statusOf(client, id)))).every((row) => row.status === 'processing'), 15_000, `${ids.join(', ')} running`);

const allCompleted = (client: KsiClient, ids: string[], timeoutMs = 30_000) =>
  eventually(async () => (await Promise.all(ids.map((id) => statusOf(client, id)))).every((row) => row.status === 'completed'), timeoutMs, `${ids.join(', ')} completed`);

/** Waits until the node of `client` trusts its memory: a row changed behind its back does not change its answer. */
async function answeringFromMemory(cluster: TestCluster, client: KsiClient): Promise<void> {
  let n = 0;
  await eventually(
    async () => {
      await client.sendSingle('state:set', { key: 'k', value: ++n });
      // A read caches what it found (a write only removes its key from the cache).
      await client.sendSingle('state:get', { key: 'k' });
      await cluster.sql(`UPDATE state_entries SET value = '"behind its back"' WHERE key = 'k'`);
      return (await client.sendSingle('state:get', { key: 'k' })).value === n;
    },
    15_000,
    'the node answering from memory',
  );
}

(server ? describe : describe.skip)('several daemons on one PostgreSQL database', () => {
  let cluster: TestCluster;
  beforeEach(() => (cluster = new TestCluster()));
  afterEach(() => cluster.dispose());

  it('60 completions over 20 sessions submitted to random nodes: one result each, every session in order and never two of its requests at once', async () => {
    for (const index of [0, 1, 2]) await cluster.start(index);
    const watchers = cluster.clients.map((client) => new CompletionWatcher(client));
    const { nodes } = (await cluster.clients[0].sendSingle('cluster:nodes', {})) as { nodes: { node_id: string; status: string }[] };
    expect(nodes.map((node) => [node.node_id, node.status]).sort()).toEqual([
      ['node-0', 'alive'],
      ['node-1', 'alive'],
      ['node-2', 'alive'],
    ]);

    const submitted: { id: string; node: number; conversation: string; turn: number }[] = [];
    for (let turn = 0; turn < 3; turn++) {
      for (let session = 0; session < 20; session++) {
        const node = Math.floor(Math.random() * 3);
        const sleepMs = 200 + Math.floor(Math.random() * 600);
        const conversation = `conversation-${session}`;
        const id = await submit(cluster.clients[node], `[[sleep:${sleepMs}]] ${conversation} turn ${turn}`, { conversation_id: conversation });
        submitted.push({ id, node, conversation, turn });
      }
    }
    // Each result reaches the client that submitted it, whichever node ran the request.
    const ends = await Promise.all(submitted.map(({ id, node }) => watchers[node].end(id, 50_000)));
    expect(ends.map((line) => line.event)).toEqual(submitted.map(() => 'completion:result'));
    const ranOn = new Set(ends.map((line) => line.data.result.ksi.node_id));
    expect(ranOn.size).toBeGreaterThan(1);

    const answers = new Map(cluster.answers().map((answer) => [answer.pid, answer.time]));
    for (const { id } of submitted) expect(cluster.startsOf(id)).toHaveLength(1);
    for (let session = 0; session < 20; session++) {
      const turns = submitted.filter(({ conversation }) => conversation === `conversation-${session}`);
      const runs = turns.map(({ id }) => {
        const [start] = cluster.startsOf(id);
        return { start: start.time, end: answers.get(start.pid)! };
      });
      for (let turn = 1; turn < runs.length; turn++) expect(runs[turn].start).toBeGreaterThanOrEqual(runs[turn - 1].end);
    }
  }, 90_000);

  it('kill -9 of a node with runs in flight: only those re-run, on the others once their leases end, and its CLI processes are killed first', async () => {
    const victim = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const inFlight = [await submit(cluster.clients[0], 'long one', { conversation_id: 'a' }), await submit(cluster.clients[0], 'long two', { conversation_id: 'b' })];
    await allRunning(cluster.clients[0], inFlight);
    await cluster.start(1, { FAKE_CLAUDE_SLEEP_MS: '200' });
    await cluster.start(2, { FAKE_CLAUDE_SLEEP_MS: '200' });
    const queuedLater = await submit(cluster.clients[1], 'short', { conversation_id: 'c' });
    await allCompleted(cluster.clients[1], [queuedLater]);
    expect(cliProcessesOf(victim.varDir)).toHaveLength(2);

    await victim.stop('SIGKILL');
    // The retries start only after the takeover killed the dead node's CLI processes.
    await eventually(() => inFlight.every((id) => cluster.startsOf(id).length === 2), 20_000, 'both in-flight requests started again');
    expect(cliProcessesOf(victim.varDir)).toEqual([]);
    expect(cluster.startsOf(queuedLater)).toHaveLength(1);

    const health = (await cluster.clients[1].sendSingle('system:health')) as { cluster: { nodes: { node_id: string; status: string }[] } };
    expect(health.cluster.nodes.find((node) => node.node_id === 'node-0')?.status).not.toBe('alive');
    // The retries (the others' fake answers in 200 ms) end with their second attempt: each ran again once.
    await allCompleted(cluster.clients[1], inFlight);
    for (const id of inFlight) expect(await statusOf(cluster.clients[1], id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(inFlight.map((id) => cluster.startsOf(id).length)).toEqual([2, 2]);
  }, 60_000);

  it('a node paused past its leases changes nothing when it wakes: the others ran its requests, its CLI processes were stopped', async () => {
    const paused = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const ids = [await submit(cluster.clients[0], 'paused one', { conversation_id: 'a' }), await submit(cluster.clients[0], 'paused two', { conversation_id: 'b' })];
    await allRunning(cluster.clients[0], ids);
    await cluster.start(1, { FAKE_CLAUDE_SLEEP_MS: '0' });

    process.kill(paused.pid!, 'SIGSTOP');
    try {
      await eventually(() => ids.every((id) => cluster.startsOf(id).length === 2), 20_000, 'both requests started again on the live node');
      expect(cliProcessesOf(paused.varDir)).toEqual([]);
      await allCompleted(cluster.clients[1], ids);
    } finally {
      process.kill(paused.pid!, 'SIGCONT');
    }
    await eventually(() => paused.readLog().includes('lease on a completion lost') || paused.readLog().includes('after its lease was lost'), 15_000, 'the woken node noticed its leases were lost');
    for (const id of ids) expect(await statusOf(cluster.clients[0], id)).toMatchObject({ status: 'completed', attempts: 2, result: { ksi: { node_id: 'node-1' } } });
    // It goes on as a node of the cluster.
    const later = await submit(cluster.clients[0], '[[sleep:100]] after waking', { conversation_id: 'c' });
    await allCompleted(cluster.clients[0], [later]);
  }, 60_000);

  it('a node stopped with SIGTERM hands its requests and agents back at once, without waiting for its leases to end; a turn that answers during the stop is kept', async () => {
    // Leases that would outlast the test: only a hand-back can move the requests.
    const leaving = await cluster.start(0, { KSI_LEASE_TTL_MS: '120000', FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST, KSI_MAX_CONCURRENT: '3' });
    const ids = [await submit(cluster.clients[0], 'handed one', { conversation_id: 'a' }), await submit(cluster.clients[0], 'handed two', { conversation_id: 'b' })];
    // Its CLI ignores the stop's SIGTERM and answers then: paid for, so it must not run again.
    const stopBegan = path.join(leaving.varDir, 'stop-began');
    const answering = await submit(cluster.clients[0], `[[sleep:0]] [[ignore_sigterm:${stopBegan}]] [[result_after:${stopBegan}]] answers as its node stops`, { conversation_id: 'c' });
    await allRunning(cluster.clients[0], [...ids, answering]);
    await eventually(() => cluster.startsOf(answering).length === 1, 10_000, 'the answering CLI started');
    await cluster.start(1, { KSI_LEASE_TTL_MS: '120000', FAKE_CLAUDE_SLEEP_MS: '0' });
    await cluster.clients[0].sendSingle('agent:spawn', { profile: 'base_agent', agent_id: 'handed' });

    await leaving.stop('SIGTERM');
    expect(await statusOf(cluster.clients[1], answering)).toMatchObject({ status: 'completed', attempts: 1, result: { ksi: { node_id: 'node-0' } } });
    await eventually(async () => (await cluster.clients[1].sendSingle('agent:info', { agent_id: 'handed' })).node_id === 'node-1', 10_000, 'the agent adopted by the node left');
    await allCompleted(cluster.clients[1], ids, 20_000);
    for (const id of ids) {
      expect(cluster.startsOf(id)).toHaveLength(2);
      expect(await statusOf(cluster.clients[1], id)).toMatchObject({ result: { ksi: { node_id: 'node-1' } } });
    }
    expect(cluster.startsOf(answering)).toHaveLength(1);
    const { nodes } = (await cluster.clients[1].sendSingle('cluster:nodes', {})) as { nodes: { node_id: string; status: string; stopped_at: number | null }[] };
    expect(nodes.find((node) => node.node_id === 'node-0')).toMatchObject({ status: 'dead', stopped_at: expect.any(Number) });
  }, 60_000);

  it('a node stopping keeps its leases until its runs end: a turn that answers after its TTL, within the grace after SIGTERM, is kept', async () => {
    const leaving = await cluster.start(0, { KSI_LEASE_TTL_MS: '600' });
    const stopBegan = path.join(leaving.varDir, 'stop-began');
    const answer = path.join(leaving.varDir, 'answer');
    const id = await submit(cluster.clients[0], `[[ignore_sigterm:${stopBegan}]] [[result_after:${answer}]] answers late in its node's stop`);
    await allRunning(cluster.clients[0], [id]);
    await eventually(() => cluster.startsOf(id).length === 1, 10_000, 'its CLI started');
    // The node that takes the request over (and kills its CLI) should its lease end.
    await cluster.start(1);
    const db = await cluster.connect();
    try {
      const stopped = leaving.stop('SIGTERM');
      await eventually(() => fs.existsSync(stopBegan), 10_000, 'the stop’s SIGTERM at the CLI');
      const { rows } = await db.query<{ at: string }>('SELECT lease_expires_at AS at FROM completion_requests WHERE request_id = $1', [id]);
      // The CLI's grace after SIGTERM is 2 s: it answers past the lease held at the stop and past node-1's look for it.
      await eventually(() => Date.now() > Number(rows[0].at) + 500, 5_000, 'the lease held at the stop past its end');
      fs.writeFileSync(answer, '');
      await stopped;
    } finally {
      await db.end();
    }
    expect(await statusOf(cluster.clients[1], id)).toMatchObject({ status: 'completed', attempts: 1, result: { ksi: { node_id: 'node-0' } } });
    expect(cluster.startsOf(id)).toHaveLength(1);
  }, 60_000);

  it('200 direct messages to subscribers on various nodes: each delivered exactly once, by id', async () => {
    for (const index of [0, 1, 2]) await cluster.start(index);
    const received = new Map<string, string[]>();
    const recipients: string[] = [];
    const subscribers: KsiClient[] = [];
    for (const [index, node] of cluster.nodes.entries()) {
      for (let k = 0; k < 3; k++) {
        const agent = `agent-${index}-${k}`;
        const client = node.client();
        subscribers.push(client);
        client.subscribe('message:delivered', (line) => {
          const message = line.data as { id: string; to: string };
          received.set(message.id, [...(received.get(message.id) ?? []), `${agent}:${message.to}`]);
        });
        await client.sendSingle('message:subscribe', { event_types: ['DIRECT_MESSAGE'], agent_id: agent });
        recipients.push(agent);
      }
    }
    try {
      const sent = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        const to = recipients[Math.floor(Math.random() * recipients.length)];
        const from = cluster.clients[Math.floor(Math.random() * 3)];
        const { id } = (await from.sendSingle('message:publish', { event_type: 'DIRECT_MESSAGE', to, message: { n: i } })) as { id: string };
        sent.set(id, to);
      }
      await eventually(() => received.size === sent.size, 20_000, 'every message delivered');
      for (const [id, to] of sent) expect(received.get(id)).toEqual([`${to}:${to}`]);
      const stats = (await cluster.clients[0].sendSingle('message_bus:stats')).stats;
      expect(stats.offline_queues).toEqual({});
    } finally {
      for (const client of subscribers) await client.close();
    }
  }, 60_000);

  it('what one node acknowledges, the others read at once: state, queues and budgets', async () => {
    for (const index of [0, 1, 2]) await cluster.start(index);
    const [a, b, c] = cluster.clients;
    for (let i = 0; i < 50; i++) {
      await a.sendSingle('state:set', { key: 'shared', value: i });
      expect(await b.sendSingle('state:get', { key: 'shared' })).toMatchObject({ value: i });
      expect(await c.sendSingle('state:get', { key: 'shared' })).toMatchObject({ value: i });
    }
    await a.sendSingle('state:delete', { key: 'shared' });
    expect(await b.sendSingle('state:get', { key: 'shared' })).toMatchObject({ found: false });

    // Reads asked together, on many connections, go to the database together: each still gets its own key's value, or none.
    for (let i = 0; i < 20; i += 2) await a.sendSingle('state:set', { key: `many-${i}`, value: { i } });
    const readers = Array.from({ length: 20 }, () => cluster.nodes[1].client());
    try {
      await Promise.all(readers.map((reader) => reader.sendSingle('system:health')));
      const readTogether = await Promise.all(readers.map((reader, i) => reader.sendSingle('state:get', { key: `many-${i}` })));
      expect(readTogether).toEqual(readers.map((_, i) => (i % 2 === 0 ? expect.objectContaining({ found: true, value: { i } }) : expect.objectContaining({ found: false }))));
    } finally {
      await Promise.all(readers.map((reader) => reader.close()));
    }

    // Three nodes popping one queue at once take each item once.
    for (let i = 0; i < 60; i++) await cluster.clients[i % 3].sendSingle('async_state:push', { queue_name: 'work', value: i });
    const popped = (
      await Promise.all(
        cluster.clients.map(async (client) => {
          const mine: number[] = [];
          for (;;) {
            const item = (await client.sendSingle('async_state:pop', { queue_name: 'work' })) as { found: boolean; value: number };
            if (!item.found) return mine;
            mine.push(item.value);
          }
        }),
      )
    ).flat();
    expect(popped.sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));

    // A budget set on one node stops a turn on another at once.
    await b.sendSingle('budget:set', { scope: 'global', limit_usd: 0 });
    const watcher = new CompletionWatcher(c);
    const refused = await submit(c, 'over budget');
    expect(await watcher.end(refused)).toMatchObject({ event: 'completion:error', data: { code: 'budget_exhausted' } });
  }, 60_000);

  it('a node alone answers state:get from memory, and stops the moment a second node starts: what the second writes, state or budget, the first reads', async () => {
    await cluster.start(0);
    const [a] = cluster.clients;
    await answeringFromMemory(cluster, a);
    // Read while alone: a node alone keeps the budgets it read, and the keys it found absent.
    expect(await a.sendSingle('budget:list')).toEqual({ budgets: [] });
    expect(await a.sendSingle('state:get', { key: 'absent' })).toMatchObject({ found: false });
    await cluster.start(1);
    const [, b] = cluster.clients;
    await b.sendSingle('state:set', { key: 'k', value: 'from node-1' });
    await b.sendSingle('state:set', { key: 'absent', value: 'set by node-1' });
    expect(await a.sendSingle('state:get', { key: 'k' })).toMatchObject({ found: true, value: 'from node-1' });
    expect(await a.sendSingle('state:get', { key: 'absent' })).toMatchObject({ found: true, value: 'set by node-1' });
    await cluster.sql(`UPDATE state_entries SET value = '"behind its back"' WHERE key = 'k'`);
    expect(await a.sendSingle('state:get', { key: 'k' })).toMatchObject({ value: 'behind its back' });
    await b.sendSingle('budget:set', { scope: 'global', limit_usd: 0 });
    expect(await a.sendSingle('budget:list')).toMatchObject({ budgets: [{ scope: 'global', limit_usd: 0, exhausted: true }] });
  }, 60_000);

  it('a node alone that is paused cannot hold the others back or answer from stale memory: a starting node ends its session after two TTLs', async () => {
    const paused = await cluster.start(0);
    const [a] = cluster.clients;
    await answeringFromMemory(cluster, a);
    process.kill(paused.pid!, 'SIGSTOP');
    try {
      await cluster.start(1);
      await cluster.clients[1].sendSingle('state:set', { key: 'k', value: 'from node-1' });
    } finally {
      process.kill(paused.pid!, 'SIGCONT');
    }
    expect(await a.sendSingle('state:get', { key: 'k' })).toMatchObject({ value: 'from node-1' });
    expect(cluster.nodes[1].readLog()).toContain('did not yield within two TTLs');
  }, 60_000);

  it('a second daemon started under a running node’s id is refused and changes nothing; once that node is gone, a daemon under its id takes back what it left', async () => {
    const first = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const [a] = cluster.clients;
    const running = await submit(a, 'runs through the attempt to copy its node', { conversation_id: 'kept' });
    await allRunning(a, [running]);
    await expect(cluster.start(1, { KSI_NODE_ID: 'node-0' })).rejects.toThrow();
    const copy = cluster.nodes[1];
    expect((await copy.waitForExit()).code).toBe(1);
    expect(copy.output.trim().split('\n')).toEqual([
      'KSI daemon cannot start: another daemon runs as node node-0 on this database (it is running; `ksi nodes -o wide` shows where): give each daemon its own KSI_NODE_ID, or stop that one first.',
    ]);
    expect(await statusOf(a, running)).toMatchObject({ status: 'processing', attempts: 1 });
    expect(cluster.startsOf(running)).toHaveLength(1);
    // Killed: its session ends with it, and a daemon under its id (here on another var dir) starts and runs its request again.
    await first.stop('SIGKILL');
    await cluster.start(1, { KSI_NODE_ID: 'node-0' });
    await allCompleted(cluster.clients[1], [running]);
    expect(await statusOf(cluster.clients[1], running)).toMatchObject({ attempts: 2, result: { ksi: { node_id: 'node-0' } } });
  }, 60_000);

  it('a daemon started under the id of a node paused for two TTLs ends that node’s hold on the id and starts; the paused one exits when it wakes, leaving no CLI running', async () => {
    const paused = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    // Past SIGTERM: the paused node exits before its grace for the CLI ends, and must kill it on the way out.
    const running = await submit(cluster.clients[0], '[[ignore_sigterm]] runs while its daemon is paused');
    await allRunning(cluster.clients[0], [running]);
    await eventually(() => cliProcessesOf(paused.varDir).length === 1, 10_000, 'its CLI running');
    process.kill(paused.pid!, 'SIGSTOP');
    try {
      await cluster.start(1, { KSI_NODE_ID: 'node-0' });
      expect(cluster.nodes[1].readLog()).toContain('was silent for two TTLs');
    } finally {
      process.kill(paused.pid!, 'SIGCONT');
    }
    expect((await paused.waitForExit()).code).toBe(1);
    expect(paused.readLog()).toContain('another daemon took this node id while this one was paused or cut off from the database: this one exits');
    expect(cliProcessesOf(paused.varDir)).toEqual([]);
    expect(await cluster.clients[1].sendSingle('state:set', { key: 'still', value: 'running' })).toMatchObject({ status: 'set' });
  }, 60_000);

  it('upkeep’s questions every few seconds stay out of the event log; the same question from a client is recorded', async () => {
    await cluster.start(0);
    const [a] = cluster.clients;
    const db = await cluster.connect();
    try {
      const heartbeat = async () => (await db.query<{ at: number }>(`SELECT heartbeat_at AS at FROM cluster_nodes WHERE node_id = 'node-0'`)).rows[0]?.at;
      const first = await heartbeat();
      // Each heartbeat comes with a look for agents to adopt, which asks cluster:nodes.
      await eventually(async () => (await heartbeat()) > first, 10_000, 'a heartbeat');
      const second = await heartbeat();
      await eventually(async () => (await heartbeat()) > second, 10_000, 'another heartbeat');
      await a.sendSingle('cluster:nodes', {});
      const recorded = async (name: string) => Number((await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM event_log WHERE (meta)::json ->> 3 = $1', [name])).rows[0].n);
      await eventually(async () => (await recorded('cluster:nodes')) === 1, 10_000, 'the client’s cluster:nodes recorded');
      expect(await recorded('completion:running_by_node')).toBe(1);
    } finally {
      await db.end();
    }
  }, 60_000);

  it('a node’s checkpoint holds its own requests: restarted, it reports those it accepted or ran, not the other nodes’', async () => {
    const restarted = await cluster.start(0, { KSI_MAX_CONCURRENT: '1', FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const [a] = cluster.clients;
    const own = await submit(a, 'node-0 runs this', { conversation_id: 'own' });
    await allRunning(a, [own]);
    await cluster.start(1, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const [, b] = cluster.clients;
    // node-0's one slot is taken: node-1 runs it.
    const others = await submit(b, 'node-1 runs this', { conversation_id: 'others' });
    await allRunning(b, [others]);
    await restarted.stop();
    await cluster.start(0);
    const health = (await cluster.clients[0].sendSingle('system:health', {})) as { restored?: { results: Record<string, unknown> } };
    expect(health.restored?.results.completion).toMatchObject({ restored_requests: 1, retried_after_restart: 1 });
    expect(await statusOf(b, others)).toMatchObject({ status: 'processing', attempts: 1 });
  }, 60_000);

  it('a node paused in the middle of a write holds what it wrote from the others for a TTL (at least 5 s) at most: the server ends its transaction', async () => {
    const paused = await cluster.start(0);
    const other = await cluster.start(1);
    const [a, b] = cluster.clients;
    // Its write waits for the server to end node-0's transaction: more time than the usual 10 s for a loaded machine.
    const patient = other.client(30_000);
    await a.sendSingle('state:set', { key: 'held', value: 'first' });
    const blocker = await cluster.connect();
    const writesOfPaused = (state: string) =>
      blocker.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND ${state}`, [`ksi presence ${paused.pid}`]).then((found) => found.rowCount === 1);
    const pipelining = await RawConnection.open(paused.socketPath);
    try {
      // node-0's delete and the write pipelined after it commit in one transaction (a statement alone
      // would commit as it ends): the delete waits for the row inside it, is paused there, then given the row.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM state_entries WHERE key = 'held' FOR UPDATE`);
      pipelining.write(`${JSON.stringify({ event: 'state:delete', data: { key: 'held' } })}\n${JSON.stringify({ event: 'state:set', data: { key: 'beside', value: 1 } })}\n`);
      await eventually(() => writesOfPaused(`wait_event_type = 'Lock'`), 10_000, 'node-0 deleting, waiting for the row');
      process.kill(paused.pid!, 'SIGSTOP');
      try {
        await blocker.query('ROLLBACK');
        await eventually(() => writesOfPaused(`state = 'idle in transaction'`), 10_000, 'node-0 paused inside its transaction');
        // Waits for node-0's transaction, which the server ends after 5 s (the TTL, 3 s, is below the floor).
        expect(await patient.sendSingle('state:set', { key: 'held', value: 'second' })).toMatchObject({ status: 'set' });
      } finally {
        process.kill(paused.pid!, 'SIGCONT');
      }
      const [deleted, beside] = await pipelining.read(2, 30_000);
      expect(deleted.data).toMatchObject({ code: 'storage_unavailable' });
      expect(beside.data).toMatchObject({ code: 'storage_unavailable' });
    } finally {
      pipelining.close();
      await blocker.end();
      await patient.close();
    }
    expect(await a.sendSingle('state:get', { key: 'held' })).toMatchObject({ found: true, value: 'second' });
    await a.sendSingle('state:set', { key: 'after', value: 'node-0 writes again' });
    expect(await b.sendSingle('state:get', { key: 'after' })).toMatchObject({ value: 'node-0 writes again' });
  }, 60_000);

  it('a monitor on one node streams every node’s events, each naming its node (`ksi monitor` too), and a trace follows a request across nodes; `ksi status` tells the cluster’s counts from the node’s, and `ksi complete --wait` whose node stopped reads the answer on another', async () => {
    // Node 0 runs one request at a time: while it runs a long one (started before node 1 was up), the next it accepts runs on node 1.
    const first = await cluster.start(0, { KSI_MAX_CONCURRENT: '1', FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const long = await submit(cluster.clients[0], 'long', { conversation_id: 'long' });
    await allRunning(cluster.clients[0], [long]);
    await cluster.start(1, { FAKE_CLAUDE_SLEEP_MS: '0' });
    const [a, b] = cluster.clients;
    const ksiMonitor = background(['monitor', 'state:*', '--socket', first.socketPath]);
    // The cluster runs one request (node-0's), node-1 none.
    const status = await ksi(['status', '--socket', cluster.nodes[1].socketPath]);
    expect(status.stdout).toMatch(/^QUEUE\s+in the cluster 1 running, 0 queued, 0 retrying, 0 parked; on this node 0 running of 2 at most$/m);
    // A client waits on node-0 for a request that node-1 runs and answers only once node-0 is gone.
    const gate = path.join(first.varDir, 'answer-after-the-stop');
    const prompt = `[[result_after:${gate}]] waited for on the node that stops`;
    const waiting = background(['complete', prompt, '--wait', '--socket', first.socketPath]);
    const monitor = cluster.nodes[0].client();
    const seen: { event_name: string; node_id?: string; correlation_id: unknown }[] = [];
    monitor.subscribe('monitor:event', (line) => seen.push(line.data as (typeof seen)[number]));
    try {
      await monitor.sendSingle('monitor:subscribe', { patterns: ['state:*', 'completion:*', 'budget:*'] });
      await eventually(() => ksiMonitor.stderr().includes('Monitoring'), 20_000, '`ksi monitor` started');
      await b.sendSingle('state:set', { key: 'from-node-1', value: 1 });
      await eventually(() => seen.some((event) => event.event_name === 'state:set' && event.node_id === 'node-1'), 10_000, 'node 1’s state:set on node 0’s monitor');
      await eventually(() => /^\S+ \[node-1\] state:set \{"key":"from-node-1"/m.test(ksiMonitor.stdout()), 10_000, 'node 1’s state:set on `ksi monitor`, naming node-1');

      const reply = (await a.request('completion:async', { prompt: 'elsewhere', model: 'claude-cli/sonnet', conversation_id: 'short' })) as KsiReply<{ request_id: string }>;
      const { request_id } = reply.data;
      await allCompleted(a, [request_id]);
      expect(await statusOf(a, request_id)).toMatchObject({ result: { ksi: { node_id: 'node-1' } } });
      type Traced = { node_id?: string | null; children?: Traced[] };
      const nodesOf = (node: Traced): string[] => [...(node.node_id ? [node.node_id] : []), ...(node.children ?? []).flatMap(nodesOf)];
      // Each node's events reach the shared log in its own batches.
      await eventually(
        async () => {
          const trace = (await a.sendSingle('correlation:trace', { correlation_id: String(reply.correlation_id) })) as { tree: Traced };
          return new Set(nodesOf(trace.tree)).size === 2;
        },
        10_000,
        'the trace of the request holds events of both nodes',
      );

      const waitedFor = await eventually(() => /queued (\S+)/.exec(waiting.stderr())?.[1], 10_000, 'the waiting client’s request queued');
      await allRunning(b, [waitedFor]);
      await first.stop('SIGTERM');
      fs.writeFileSync(gate, '');
      let exitCode: number | null | undefined;
      void waiting.exit.then((code) => (exitCode = code));
      // Within seconds: not after giving its own node up, a minute on.
      await eventually(() => exitCode !== undefined, 20_000, 'the waiting client answered from node-1');
      expect(exitCode).toBe(0);
      expect(waiting.stdout()).toBe(`echo: ${prompt}\n`);
      expect(waiting.stderr()).toContain('the daemon went away');
    } finally {
      await monitor.close();
      ksiMonitor.child.kill('SIGINT');
      waiting.child.kill('SIGINT');
    }
  }, 60_000);

  it('an agent’s requests run on its node only, wherever they were sent: another node with free slots passes them over', async () => {
    const agentsNode = await cluster.start(0);
    const [a] = cluster.clients;
    await a.sendSingle('agent:spawn', { profile: 'conversationalist', agent_id: 'homebound' });
    // node-0's two slots, held by runs waiting for a file, taken while it is alone.
    const gate = path.join(agentsNode.varDir, 'open');
    const holders = [await submit(a, `[[result_after:${gate}]] hold one`, { conversation_id: 'h1' }), await submit(a, `[[result_after:${gate}]] hold two`, { conversation_id: 'h2' })];
    await allRunning(a, holders);
    await cluster.start(1);
    const [, b] = cluster.clients;
    await b.sendSingle('agent:send_message', { agent_id: 'homebound', message: { prompt: 'a turn of the agent' } });
    await submit(b, 'the operator asks for the agent', { agent_id: 'homebound', conversation_id: 'operator' });
    const db = await cluster.connect();
    try {
      const agentsRequests = async () => (await db.query<{ request_id: string; status: string }>(`SELECT request_id, status FROM completion_requests WHERE agent_id = 'homebound' ORDER BY seq`)).rows;
      await eventually(async () => (await agentsRequests()).length === 2, 10_000, 'the agent’s turn and the operator’s request for it queued');
      // Queued after them: node-1 runs it at once, having passed over the agent's.
      const anywhere = await submit(b, 'any node may run this', { conversation_id: 'anywhere' });
      await allCompleted(b, [anywhere]);
      expect(await statusOf(b, anywhere)).toMatchObject({ result: { ksi: { node_id: 'node-1' } } });
      const waiting = await agentsRequests();
      expect(waiting.map((row) => row.status)).toEqual(['queued', 'queued']);
      fs.writeFileSync(gate, '');
      const ids = waiting.map((row) => row.request_id);
      await allCompleted(b, [...holders, ...ids]);
      for (const id of ids) expect(await statusOf(b, id)).toMatchObject({ result: { ksi: { node_id: 'node-0' } } });
    } finally {
      await db.end();
    }
  }, 60_000);

  it('an agent whose node dies moves to a live node with its inbox and session, and its turn in flight runs again there with that node’s MCP bridge; any node shows its whole conversation, and decides and times out approvals asked on another', async () => {
    await cluster.start(0);
    await cluster.start(1);
    const [a, b] = cluster.clients;
    const watcher = cluster.nodes[1].client();
    const results: { text: string; in_reply_to: { prompt: string } }[] = [];
    watcher.subscribe('message:delivered', (line) => results.push(line.data as unknown as (typeof results)[number]));
    const requested: { approval_id: string }[] = [];
    watcher.subscribe('approval:requested', (line) => requested.push(line.data as unknown as (typeof requested)[number]));
    type Approval = { approval_id: string; agent_id: string; status: string; decided_by: string | null };
    const pending = async (agentId = 'mover') => ((await b.sendSingle('approval:list', {})) as { approvals: Approval[] }).approvals.filter((approval) => approval.agent_id === agentId);
    let asker: RawConnection | undefined;
    try {
      await watcher.sendSingle('message:subscribe', { event_types: ['AGENT_RESULT'] });
      await watcher.sendSingle('approval:subscribe', {});
      await a.sendSingle('agent:spawn', { profile: 'conversationalist', agent_id: 'mover', permission_profile: 'supervised' });
      expect(await b.sendSingle('agent:info', { agent_id: 'mover' })).toMatchObject({ node_id: 'node-0' });
      // Sent to the node that does not run it: that node asks the agent's node.
      await b.sendSingle('agent:send_message', { agent_id: 'mover', message: { prompt: 'first turn' } });
      await eventually(() => results.length === 1, 15_000, 'the first reply');
      const userTurns = async (sessionId: string) => {
        const conversation = await b.sendSingle('conversation:get', { session_id: sessionId });
        expect(conversation).toMatchObject({ messages: expect.any(Array) });
        return (conversation as { messages: { type: string; content: string }[] }).messages.filter((m) => m.type === 'user').map((m) => m.content);
      };
      // node-0 ran it; node-1 answers for it all the same.
      const first = (await b.sendSingle('agent:info', { agent_id: 'mover' })).session_id!;
      expect(await userTurns(first)).toEqual([expect.stringContaining('first turn')]);
      // A turn that asks node-0 for a shell command through its MCP bridge, decided on node-1: the call waiting on node-0 hears it.
      const decidedElsewhere = '[[tool_use:Bash]] [[tool_input:{"command":"id"}]] decided on the other node';
      await b.sendSingle('agent:send_message', { agent_id: 'mover', message: { prompt: decidedElsewhere } });
      const askedOnNode0 = await eventually(async () => (await pending())[0], 15_000, 'the turn asking node-0 for approval');
      await eventually(() => requested.some((approval) => approval.approval_id === askedOnNode0.approval_id), 10_000, 'node-0’s request pushed to node-1’s subscriber');
      await b.sendSingle('approval:decide', { approval_id: askedOnNode0.approval_id, decision: 'allow' });
      await eventually(() => results.length === 2, 10_000, 'the turn waiting on node-0 answered after node-1’s decision');
      // A turn that asks for a shell command through its MCP bridge, and waits for the answer.
      const toolTurn = '[[tool_use:Bash]] [[tool_input:{"command":"whoami"}]] tool turn';
      await b.sendSingle('agent:send_message', { agent_id: 'mover', message: { prompt: toolTurn } });
      const asked = await eventually(async () => (await pending())[0], 15_000, 'the tool turn asking node-0 for approval');
      const before = (await b.sendSingle('agent:info', { agent_id: 'mover' })).session_id;
      // A call on node-0 (as a bridge makes it) of an identity no node adopts, so nothing withdraws its request when node-0 dies before its timeout.
      await a.sendSingle('permission:set_agent', { agent_id: 'asker', profile: 'supervised', overrides: { approvals: { timeout_seconds: 4 } } });
      asker = await RawConnection.identified(cluster.nodes[0].socketPath, 'asker', (await a.sendSingle('permission:issue_token', { agent_id: 'asker' })).token);
      asker.send({ event: 'approval:prompt', data: { tool_name: 'Bash', input: { command: 'uptime' } } });
      const orphaned = await eventually(async () => (await pending('asker'))[0], 10_000, 'the identity’s call asking node-0 for approval');

      await cluster.nodes[0].stop('SIGKILL');
      expect(await b.sendSingle('approval:get', { approval_id: orphaned.approval_id })).toMatchObject({ status: 'pending' });
      await b.sendSingle('agent:send_message', { agent_id: 'mover', message: { prompt: 'after the move' } });
      // Run again on node-1, the turn asks through node-1's bridge; what node-0's call waited for is withdrawn.
      const askedAgain = await eventually(async () => (await pending()).find((approval) => approval.approval_id !== asked.approval_id), 20_000, 'the turn asking node-1 for approval');
      expect(await pending()).toEqual([askedAgain]);
      expect(await b.sendSingle('approval:get', { approval_id: asked.approval_id })).toMatchObject({ status: 'withdrawn', decided_by: 'withdrawn', reason: expect.stringContaining('node-0') });
      const withdrawal = await eventually(async () => {
        const { events } = await b.sendSingle('monitor:get_events', { patterns: ['approval:decided'], limit: 1000 });
        const decided = events.map(({ data }) => data as { approval_id: string | null }).filter((data) => data.approval_id === asked.approval_id);
        return decided.length > 0 && decided;
      }, 10_000, 'the withdrawal in the event log');
      expect(withdrawal).toEqual([
        expect.objectContaining({ decision: 'deny', decided_by: 'withdrawn', reason: expect.stringContaining('node-0') }),
      ]);
      await b.sendSingle('approval:decide', { approval_id: askedAgain.approval_id, decision: 'allow' });
      await eventually(() => results.length === 4, 30_000, 'the tool turn and the next one answered on the live node');
      expect(results.map((result) => result.in_reply_to.prompt)).toEqual(['first turn', decidedElsewhere, toolTurn, 'after the move']);
      const info = await b.sendSingle('agent:info', { agent_id: 'mover' });
      expect(info).toMatchObject({ node_id: 'node-1', status: 'idle', pending_messages: 0, failed_messages: 0 });
      // The session goes on: the turns after the move resumed the one before it.
      const { chain, newest_session_id, completions } = await b.sendSingle('completion:session_status', { session_id: before! });
      expect(newest_session_id).toBe(info.session_id);
      expect(chain).toContain(info.session_id);
      // Each turn ran to a result once: what each completion of the session answered says which turn it was.
      type Answer = { status: string; result?: { ksi: { prompt: string; attempt: number; node_id: string }; response: { permission_denials?: unknown[] } } };
      const answers = await Promise.all(completions.map(async ({ request_id }: { request_id: string }) => (await b.sendSingle('completion:status', { request_id })) as Answer));
      expect(answers.map(({ status, result }) => `${status}: ${result?.ksi.prompt} (attempt ${result?.ksi.attempt} on ${result?.ksi.node_id})`)).toEqual([
        expect.stringMatching(/^completed: .*first turn/),
        expect.stringMatching(/^completed: .*decided on the other node \(attempt 1 on node-0\)$/),
        expect.stringMatching(/^completed: .*tool turn \(attempt \d on node-1\)$/),
        expect.stringMatching(/^completed: .*after the move/),
      ]);
      // The shell commands ran: node-1's decision reached node-0's bridge, and node-1's bridge carried the approval.
      expect(answers[1].result?.response.permission_denials).toEqual([]);
      expect(answers[2].result?.response.permission_denials).toEqual([]);
      // Turns of both nodes, in order, from either end of the chain.
      const wholeConversation = ['first turn', 'decided on the other node', 'tool turn', 'after the move'].map((prompt) => expect.stringContaining(prompt));
      expect(await userTurns(info.session_id!)).toEqual(wholeConversation);
      expect(await userTurns(first)).toEqual(wholeConversation);
      expect(await b.sendSingle('conversation:list', {})).toMatchObject({ total: 1, conversations: [{ session_id: info.session_id, root_session_id: first, message_count: 8 }] });
      // The identity's request, asked on node-0 before it died, is denied by node-1 once its timeout passed.
      const expired = async () => (await b.sendSingle('approval:get', { approval_id: orphaned.approval_id })) as Approval;
      await eventually(async () => (await expired()).status === 'expired', 15_000, 'the request of the dead node timed out on node-1');
      expect(await expired()).toMatchObject({ decided_by: 'timeout' });
    } finally {
      asker?.close();
      await watcher.close();
    }
  }, 60_000);

  it('nodes with different lease TTLs are each judged by their own: a node with a long TTL keeps its agent and shows alive between its heartbeats, one with a short TTL is found dead after its own', async () => {
    // node-0 beats every 10 s; node-1 (3 s TTL) looks for agents to adopt every second.
    await cluster.start(0, { KSI_LEASE_TTL_MS: '30000' });
    await cluster.start(1);
    const [slow, quick] = cluster.clients;
    await slow.sendSingle('agent:spawn', { profile: 'conversationalist', agent_id: 'stays' });
    type Listed = { node_id: string; status: string; heartbeat_at: number; lease_ttl_ms: number };
    const nodeSeenBy = async (client: KsiClient, nodeId: string) =>
      ((await client.sendSingle('cluster:nodes', { include_dead: true })) as { nodes: Listed[] }).nodes.find((node) => node.node_id === nodeId)!;
    const seen = new Set<string>();
    // Silent longer than node-1's TTL and one of its looks: judged by node-1's TTL, node-0 was dead and its agent taken.
    await eventually(
      async () => {
        const slowNode = await nodeSeenBy(quick, 'node-0');
        seen.add(slowNode.status);
        return Date.now() - slowNode.heartbeat_at * 1000 > TTL_MS + TTL_MS / 3 + 1_000;
      },
      15_000,
      'node-0 silent past node-1’s TTL',
    );
    expect([...seen]).toEqual(['alive']);
    expect(await nodeSeenBy(quick, 'node-0')).toMatchObject({ status: 'alive', lease_ttl_ms: 30_000 });
    expect(await quick.sendSingle('agent:info', { agent_id: 'stays' })).toMatchObject({ node_id: 'node-0' });

    // Judged by node-0's TTL, node-1 would stay alive or suspect for 30 s.
    await cluster.nodes[1].stop('SIGKILL');
    await eventually(async () => (await nodeSeenBy(slow, 'node-1')).status === 'dead', 3 * TTL_MS, 'node-1 dead to node-0 within its own TTL');
  }, 60_000);

  it('an orchestration survives the death of the node running it: its turns go on, and its timeout ends it, on a live node', async () => {
    await cluster.start(0);
    await cluster.start(1);
    const [a, b] = cluster.clients;
    const start = async (pattern: string, vars: Record<string, unknown>) => ((await a.sendSingle('orchestration:start', { pattern, vars })) as { orchestration_id: string }).orchestration_id;
    const debate = await start('debate', { topic: 'ebbs [[sleep:500]]', rounds: 3 });
    const timed = await start('until_done', { task: 'loop [[sleep:400]]', done_event: 'never:raised', timeout_seconds: 6 });
    const status = async (id: string) => (await b.sendSingle('orchestration:status', { orchestration_id: id })) as Record<string, any>;
    await eventually(async () => (await status(debate)).message_count >= 1, 15_000, 'the first reply routed');
    expect(await b.sendSingle('agent:info', { agent_id: `${debate}_pro` })).toMatchObject({ node_id: 'node-0' });

    await cluster.nodes[0].stop('SIGKILL');
    const ended = (id: string) => eventually(async () => ((await status(id)).state === 'terminated' ? status(id) : undefined), 40_000, `${id} terminated`);
    expect(await ended(debate)).toMatchObject({ reason: 'rounds', message_count: 6 });
    const { transcript } = (await b.sendSingle('orchestration:get_instance', { orchestration_id: debate })) as { transcript: { agent_id: string; text: string }[] };
    expect(transcript.map((turn) => turn.agent_id)).toEqual([1, 2, 3].flatMap(() => [`${debate}_pro`, `${debate}_con`]));
    for (let i = 1; i < transcript.length; i++) expect(transcript[i].text).toContain(transcript[i - 1].text);
    const timedOut = (await ended(timed))!;
    expect(timedOut.reason).toBe('timeout');
    expect(timedOut.ended_at - timedOut.started_at).toBeGreaterThanOrEqual(6);
    const { agents } = (await b.sendSingle('agent:list', {})) as { agents: { agent_id: string }[] };
    expect(agents.filter((agent) => agent.agent_id.startsWith(debate) || agent.agent_id.startsWith(timed))).toEqual([]);
  }, 60_000);

  it('a node that lost its signal connection catches up once it listens again: a result relayed and a direct message announced meanwhile reach its clients', async () => {
    const deaf = await cluster.start(0, { KSI_MAX_CONCURRENT: '1' });
    const busy = await submit(cluster.clients[0], '[[sleep:20000]] keeps node-0 busy', { conversation_id: 'busy' });
    await allRunning(cluster.clients[0], [busy]);
    await cluster.start(1);
    const watcher = new CompletionWatcher(cluster.clients[0]);
    const inbox = deaf.client();
    const delivered: unknown[] = [];
    inbox.subscribe('message:delivered', (line) => delivered.push(line.data));
    try {
      await inbox.sendSingle('message:subscribe', { event_types: ['DIRECT_MESSAGE'], agent_id: 'listener-0' });
      // Accepted by node-0, which has no free slot: node-1 runs it and relays its result to node-0.
      const elsewhere = await submit(cluster.clients[0], '[[sleep:300]] run by node-1', { conversation_id: 'other' });
      await allRunning(cluster.clients[1], [elsewhere]);
      // Its signal connection gone, and paused so that it cannot listen again before the result and the message are announced.
      await server!.execute(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'ksi signals ${deaf.pid}'`);
      process.kill(deaf.pid!, 'SIGSTOP');
      try {
        await allCompleted(cluster.clients[1], [elsewhere]);
        await cluster.clients[1].sendSingle('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'listener-0', message: { n: 1 } });
      } finally {
        process.kill(deaf.pid!, 'SIGCONT');
      }
      expect(await watcher.end(elsewhere)).toMatchObject({ event: 'completion:result', data: { result: { ksi: { node_id: 'node-1' } } } });
      await eventually(() => delivered.length === 1, 10_000, 'the direct message delivered');
      expect(delivered).toEqual([expect.objectContaining({ to: 'listener-0', n: 1 })]);
      expect(deaf.readLog()).toContain('LISTEN connection lost');
    } finally {
      await inbox.close();
    }
  }, 60_000);

  it('a cancel sent to another node stops the attempt where it runs before the session moves on', async () => {
    const owner = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: OUTLASTS_THE_TEST });
    const running = await submit(cluster.clients[0], 'to be cancelled', { conversation_id: 'c' });
    await allRunning(cluster.clients[0], [running]);
    const next = await submit(cluster.clients[0], '[[sleep:0]] next in the session', { conversation_id: 'c' });
    await cluster.start(1, { FAKE_CLAUDE_SLEEP_MS: '0' });

    expect(await cluster.clients[1].sendSingle('completion:cancel', { request_id: running })).toEqual({ request_id: running, status: 'cancelled' });
    // The node that ran it killed its process before it recorded the cancel.
    expect(cliProcessesOf(owner.varDir, '/proc', running)).toEqual([]);
    await allCompleted(cluster.clients[1], [next]);
    // A record with an error reads as an error to sendSingle: the reply line itself says how it ended.
    expect(await cluster.clients[1].request('completion:status', { request_id: running })).toMatchObject({ data: { status: 'cancelled' } });
  }, 60_000);
});
