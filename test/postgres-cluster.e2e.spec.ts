import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KsiClient } from '../libs/client/src';
import { cliProcessesOf } from '../src/modules/completion/cli-processes';
import { CompletionWatcher, fakeClaudeDaemon, type Invocation } from './support/completions';
import { eventually, type DaemonProcess } from './support/daemon-process';
import { postgresCluster } from './support/test-database';

const server = postgresCluster();
/** Short, so that takeovers happen within a test; each scenario stays well under a minute. */
const TTL_MS = 3_000;

type Node = ReturnType<typeof fakeClaudeDaemon>;
interface Answer {
  pid: number;
  time: number;
  answered: true;
}

/**
 * Daemons on one database of the throwaway cluster, as a user starts them on several hosts, all
 * logging their fake CLI's starts and answers into one file.
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
      env: { KSI_DATABASE_URL: this.url, KSI_NODE_ID: `node-${index}`, KSI_LEASE_TTL_MS: String(TTL_MS), KSI_MAX_CONCURRENT: '2', FAKE_CLAUDE_LOG: this.log, ...env },
    }));
    await node.start();
    await this.clients[index]?.close();
    this.clients[index] = node.client();
    return node;
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

const daemonLog = (node: DaemonProcess): string => {
  const file = path.join(node.varDir, 'logs', 'daemon', 'daemon.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
};

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
    const victim = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: '15000' });
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
    const progress = await statusOf(cluster.clients[1], inFlight[0]);
    expect(progress).toMatchObject({ status: 'processing', attempts: 2 });
  }, 60_000);

  it('a node paused past its leases changes nothing when it wakes: the others ran its requests, its CLI processes were stopped', async () => {
    const paused = await cluster.start(0, { FAKE_CLAUDE_SLEEP_MS: '15000' });
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
    await eventually(() => daemonLog(paused).includes('lease on a completion lost') || daemonLog(paused).includes('after its lease was lost'), 15_000, 'the woken node noticed its leases were lost');
    for (const id of ids) expect(await statusOf(cluster.clients[0], id)).toMatchObject({ status: 'completed', attempts: 2, result: { ksi: { node_id: 'node-1' } } });
    // It goes on as a node of the cluster.
    const later = await submit(cluster.clients[0], '[[sleep:100]] after waking', { conversation_id: 'c' });
    await allCompleted(cluster.clients[0], [later]);
  }, 60_000);

  it('a node stopped with SIGTERM hands its requests back at once, without waiting for its leases to end', async () => {
    // Leases that would outlast the test: only a hand-back can move the requests.
    const leaving = await cluster.start(0, { KSI_LEASE_TTL_MS: '120000', FAKE_CLAUDE_SLEEP_MS: '15000' });
    const ids = [await submit(cluster.clients[0], 'handed one', { conversation_id: 'a' }), await submit(cluster.clients[0], 'handed two', { conversation_id: 'b' })];
    await allRunning(cluster.clients[0], ids);
    await cluster.start(1, { KSI_LEASE_TTL_MS: '120000', FAKE_CLAUDE_SLEEP_MS: '0' });

    await leaving.stop('SIGTERM');
    await allCompleted(cluster.clients[1], ids, 20_000);
    for (const id of ids) {
      expect(cluster.startsOf(id)).toHaveLength(2);
      expect(await statusOf(cluster.clients[1], id)).toMatchObject({ result: { ksi: { node_id: 'node-1' } } });
    }
    const { nodes } = (await cluster.clients[1].sendSingle('cluster:nodes', {})) as { nodes: { node_id: string; status: string; stopped_at: number | null }[] };
    expect(nodes.find((node) => node.node_id === 'node-0')).toMatchObject({ status: 'dead', stopped_at: expect.any(Number) });
  }, 60_000);
});
