import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { daemonNodeArgs } from '../apps/daemon/launch';
import { KsiClient } from '../libs/client/src';
import { ksiCommand, timeCommand } from './cli';
import { countInvocations, drainCompletions, FAKE_CLAUDE, permanentFailures, queueMany, requestOnce, spawnDirectly, streamingLatency } from './completions';
import { chromiumPath, dashboardPaint } from './dashboard';
import { fanOut } from './fanout';
import { onJsonLines } from './lines';
import { drive, type LoadResult, type RequestFactory } from './load';
import { largeWrites } from './memory';
import { postgresBinDir, PostgresServer, startPostgresCluster } from './postgres-cluster';

/**
 * `npm run bench`: the daemon beside a bare Node NDJSON server measured in the same run, so every
 * figure is also a ratio. Prints a table; asserts nothing (targets are read off the output).
 */
const BARE_SERVER = path.resolve(__dirname, 'bare-server.js');
const PYTHON_KSI_OPS = 1_000;

const workloads = [
  { name: 'sequential, 1 connection', connections: 1, window: 1, total: 10_000 },
  { name: '16 connections', connections: 16, window: 1, total: 40_000 },
  { name: 'pipelined 64, 1 connection', connections: 1, window: 64, total: 100_000 },
];

const setRequest: RequestFactory = (c, i) => ({ event: 'state:set', data: { key: `k${c}-${i % 1000}`, value: { n: i, text: 'bench' } } });
const getRequest: RequestFactory = (c, i) => ({ event: 'state:get', data: { key: `k${c}-${i % 1000}` } });
/** Keys no one set, as a client polling for a key asks: their absence is remembered after the first read. */
const missingKeyRequest: RequestFactory = (c, i) => ({ event: 'state:get', data: { key: `never-set-${c}-${i % 1000}` } });

/** `node dist/bench/main.js memory` (or `state`, `completions`, `postgres`, `cluster`, `cli`, `dashboard`) runs that section alone; `postgres state` or `postgres completions` one part of it. */
async function main(): Promise<void> {
  if (process.argv[2] === 'memory') return alone(largeWritesSection);
  if (process.argv[2] === 'completions') return alone(completionsSection);
  if (process.argv[2] === 'postgres') return alone(withBareServer(postgresSection));
  if (process.argv[2] === 'cluster') return alone(withBareServer(clusterSection));
  if (process.argv[2] === 'state') return alone(withBareServer(stateAlone));
  if (process.argv[2] === 'cli') return alone(cliAlone);
  if (process.argv[2] === 'dashboard') return alone(dashboardSection);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-bench-'));
  const bareSocket = path.join(dir, 'bare.sock');
  const bare = fork(BARE_SERVER, [bareSocket], { stdio: 'ignore' });
  await new Promise((resolve) => bare.once('message', resolve));
  const daemon = await startDaemon(path.join(dir, 'main'));
  try {
    console.log(`KSI bench — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}\n`);
    await stateSection(dir, daemon.socket, bareSocket);

    console.log('Message fan-out: 100 subscribed connections, 2,000 publishes');
    const ksiFanOut = await fanOut(daemon.socket, 100, 2_000);
    const bareFanOut = await fanOut(bareSocket, 100, 2_000);
    printTable([
      ['server', 'deliveries/s', 'ratio'],
      ['KSI message bus (each message recorded in SQLite)', fmt(ksiFanOut), `${((ksiFanOut / bareFanOut) * 100).toFixed(0)}%`],
      ['bare Node broadcast', fmt(bareFanOut), '100%'],
    ]);
    console.log('');

    cliSection(daemon.socket);

    const idle = rssMb(daemon.child.pid!);
    await drive(daemon.socket, { connections: 1, window: 64, total: 100_000, request: (_c, i) => ({ event: 'state:set', data: { key: `mem-${i}`, value: { n: i, text: 'a value of some length' } } }) });
    const loaded = rssMb(daemon.child.pid!);
    const bareRss = rssMb(bare.pid!);
    console.log('Memory (RSS)');
    printTable([
      ['process', 'RSS MB'],
      ['KSI daemon, idle after the runs above', idle.toFixed(1)],
      ['KSI daemon, after 100k more keys', loaded.toFixed(1)],
      ['bare server, after the runs above', bareRss.toFixed(1)],
    ]);

    await largeWritesSection(dir);

    const readyTimes: number[] = [];
    let freshRss = 0;
    for (let i = 0; i < 3; i++) {
      const fresh = await startDaemon(path.join(dir, `ready-${i}`));
      readyTimes.push(fresh.readyMs);
      freshRss = rssMb(fresh.child.pid!);
      await stopDaemon(fresh.child);
    }
    readyTimes.sort((a, b) => a - b);

    await completionsSection(dir);
    console.log('\nResilience');
    printTable(await restoreRows(dir, sqliteFile));

    console.log('\nStart-up');
    printTable([
      ['measure', 'value'],
      ['daemon start to ready (spawn → first system:health reply), median of 3', `${readyTimes[1].toFixed(0)} ms`],
      ['daemon RSS right after start (idle)', `${freshRss.toFixed(1)} MB`],
    ]);

    await dashboardSection(dir);
    await postgresSection(dir, bareSocket);
    await clusterSection(dir, bareSocket);
  } finally {
    await stopDaemon(daemon.child);
    bare.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Rounds of each state workload: this machine's speed drifts within seconds. */
const STATE_ROUNDS = 5;

interface Round {
  ksi: LoadResult;
  base: LoadResult;
}

/**
 * Runs KSI and the bare server back to back STATE_ROUNDS times, each first in turn, and returns the
 * round whose ratio is the median (a ratio of two runs seconds apart, not of two medians), and the
 * lowest and highest ratio of the rounds.
 */
async function medianRound(ksiRun: () => Promise<LoadResult>, bareRun: () => Promise<LoadResult>): Promise<Round & { spread: string }> {
  const rounds: Round[] = [];
  for (let round = 0; round < STATE_ROUNDS; round++) {
    if (round % 2 === 0) {
      const ksi = await ksiRun();
      rounds.push({ ksi, base: await bareRun() });
    } else {
      const base = await bareRun();
      rounds.push({ ksi: await ksiRun(), base });
    }
  }
  const ratio = ({ ksi, base }: Round) => ksi.opsPerSecond / base.opsPerSecond;
  rounds.sort((a, b) => ratio(a) - ratio(b));
  const spread = `${pct(rounds[0].ksi, rounds[0].base)}-${pct(rounds[STATE_ROUNDS - 1].ksi, rounds[STATE_ROUNDS - 1].base)}`;
  return { ...rounds[Math.floor(STATE_ROUNDS / 2)], spread };
}

/** state:set and state:get in each workload, against the bare server in the same minutes. */
async function stateRows(socket: string, bareSocket: string): Promise<string[][]> {
  const rows: string[][] = [['op', 'workload', 'KSI ops/s', 'bare ops/s', 'ratio', 'rounds', 'KSI p50/p99 ms', 'bare p50/p99 ms', 'x Python']];
  const measured = [
    ['state:set', setRequest, workloads],
    ['state:get', getRequest, workloads],
    ['state:get, key never set', missingKeyRequest, workloads.slice(2)],
  ] as const;
  for (const [op, request, opWorkloads] of measured) {
    for (const workload of opWorkloads) {
      const options = { ...workload, request };
      await drive(socket, { ...options, total: Math.min(2_000, workload.total) });
      await drive(bareSocket, { ...options, total: Math.min(2_000, workload.total) });
      const { ksi, base, spread } = await medianRound(() => drive(socket, options), () => drive(bareSocket, options));
      rows.push([op, workload.name, fmt(ksi.opsPerSecond), fmt(base.opsPerSecond), pct(ksi, base), spread, latency(ksi), latency(base), `${(ksi.opsPerSecond / PYTHON_KSI_OPS).toFixed(0)}x`]);
    }
  }
  return rows;
}

/** A daemon's database settings: nothing on SQLite (a file in its var dir), a database of its own on PostgreSQL. */
type DatabaseFor = (name: string) => Promise<Record<string, string>>;
const sqliteFile: DatabaseFor = () => Promise.resolve({});

/**
 * The same state workloads, a completion's overhead and a restore of 10,000 queued, on a local
 * PostgreSQL cluster over its Unix socket with fsync and synchronous_commit on (its defaults).
 */
async function postgresSection(dir: string, bareSocket: string): Promise<void> {
  if (!postgresBinDir()) {
    console.log('\nPostgreSQL: not found (pg_config --bindir has no initdb); its figures are left out');
    return;
  }
  const cluster = startPostgresCluster({ durable: true });
  const server = new PostgresServer(cluster.url);
  const database: DatabaseFor = async (name) => ({ KSI_DATABASE_URL: await server.createDatabase(name.replace(/[^a-z0-9_]/g, '_')) });
  const pgDir = path.join(dir, 'postgres');
  try {
    console.log('\nPostgreSQL (KSI_DATABASE_URL: a local cluster over its Unix socket, fsync and synchronous_commit on; state rows as above)');
    // `postgres state` / `postgres completions`: one part alone.
    if (process.argv[3] !== 'completions') {
      const daemon = await startDaemon(path.join(pgDir, 'main'), await database('main'));
      printTable(await stateRows(daemon.socket, bareSocket));
      await stopDaemon(daemon.child);
    }
    if (process.argv[3] === 'state') return;
    await completionsSection(pgDir, database);
    printTable(await restoreRows(pgDir, database));
  } finally {
    cluster.stop();
  }
}

/** The lease TTL of the cluster runs: short, as a test would set it, so a takeover is measured in seconds. */
const CLUSTER_TTL_MS = 3_000;

/**
 * Several daemons on one PostgreSQL database: how 3 nodes drain completions against 1 (fake CLI
 * sleeping 500 ms, KSI_MAX_CONCURRENT=2 each; target >= 2.7x), how soon a request in flight on a
 * node killed with SIGKILL starts again elsewhere (target <= TTL + 1 s), and state operations with
 * 16 connections spread over 3 nodes against 16 on one (target: within 20%).
 */
async function clusterSection(dir: string, bareSocket: string): Promise<void> {
  if (!postgresBinDir()) {
    console.log('\nCluster: PostgreSQL not found (pg_config --bindir has no initdb); its figures are left out');
    return;
  }
  const cluster = startPostgresCluster({ durable: true });
  const server = new PostgresServer(cluster.url);
  const clusterDir = path.join(dir, 'cluster');
  const log = path.join(clusterDir, 'fake-claude.jsonl');
  fs.mkdirSync(clusterDir, { recursive: true });
  const nodes = async (name: string, count: number, env: (index: number) => Record<string, string> = () => ({})) => {
    const url = await server.createDatabase(name);
    const started = [];
    for (let index = 0; index < count; index++) {
      const nodeEnv = { KSI_DATABASE_URL: url, KSI_NODE_ID: `${name}-${index}`, KSI_LEASE_TTL_MS: String(CLUSTER_TTL_MS), CLAUDE_BIN: FAKE_CLAUDE, FAKE_CLAUDE_LOG: log, KSI_MAX_CONCURRENT: '2' };
      started.push(await startDaemon(path.join(clusterDir, `${name}-${index}`), { ...nodeEnv, ...env(index) }));
    }
    return started;
  };
  const stopAll = (started: { child: ChildProcess }[]) => Promise.all(started.map((node) => stopDaemon(node.child)));
  try {
    console.log(`\nCluster (nodes on one PostgreSQL database; lease TTL ${CLUSTER_TTL_MS} ms)`);
    const drainRate = async (name: string, count: number) => {
      const started = await nodes(name, count, () => ({ FAKE_CLAUDE_SLEEP_MS: '500' }));
      // Every request goes to the first node: the others claim from the shared queue.
      const drained = await drainCompletions(started[0].socket, 60, name);
      await stopAll(started);
      return (drained.results / drained.ms) * 1000;
    };
    const one = await drainRate('drain1', 1);
    const three = await drainRate('drain3', 3);
    // What this machine allows: the same 60 runs of the fake CLI spawned directly, 2 and 6 at once (its cores run every process of every node).
    const stateDir = path.join(clusterDir, 'direct-state');
    const directTwo = 60_000 / (await spawnDirectly(60, stateDir, { concurrency: 2, sleepMs: 500 }));
    const directSix = 60_000 / (await spawnDirectly(60, stateDir, { concurrency: 6, sleepMs: 500 }));
    printTable([
      ['60 completions (fake CLI 500 ms, 2 at once per node)', 'completions/s', 'ratio', 'of the direct runs'],
      ['1 node', one.toFixed(2), '1.00x', `${((one / directTwo) * 100).toFixed(0)}% of 2 at once`],
      ['3 nodes, all submitted to one (target >= 2.70x)', three.toFixed(2), `${(three / one).toFixed(2)}x`, `${((three / directSix) * 100).toFixed(0)}% of 6 at once`],
      ['the fake CLI spawned directly, 2 at once', directTwo.toFixed(2), '1.00x', ''],
      ['the fake CLI spawned directly, 6 at once (this machine’s ceiling)', directSix.toFixed(2), `${(directSix / directTwo).toFixed(2)}x`, ''],
    ]);

    const takeovers: number[] = [];
    for (let run = 0; run < 3; run++) {
      const name = `takeover${run}`;
      // The victim alone claims the request; the survivor starts once it runs there.
      const url = await server.createDatabase(name);
      const nodeEnv = (index: number) => ({ KSI_DATABASE_URL: url, KSI_NODE_ID: `${name}-${index}`, KSI_LEASE_TTL_MS: String(CLUSTER_TTL_MS), CLAUDE_BIN: FAKE_CLAUDE, FAKE_CLAUDE_LOG: log });
      const victim = await startDaemon(path.join(clusterDir, `${name}-0`), { ...nodeEnv(0), FAKE_CLAUDE_SLEEP_MS: '600000' });
      const inFlight = await requestOnce(victim.socket, 'completion:async', { prompt: `${name} in flight`, conversation_id: name });
      const requestId = inFlight.data.request_id as string;
      while ((await requestOnce(victim.socket, 'completion:status', { request_id: requestId })).data.status !== 'processing') await new Promise((resolve) => setTimeout(resolve, 20));
      const survivor = await startDaemon(path.join(clusterDir, `${name}-1`), { ...nodeEnv(1), FAKE_CLAUDE_SLEEP_MS: '0' });
      // The fake logs Date.now() when it starts.
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      let restartedAt: number | undefined;
      while (restartedAt === undefined) {
        if (Date.now() - killedAt > 30_000) throw new Error(`request ${requestId} was not taken over within 30 s of the kill`);
        restartedAt = invocationsOf(log, requestId)[1]?.time;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      takeovers.push(restartedAt - killedAt);
      await stopDaemon(survivor.child);
    }
    takeovers.sort((a, b) => a - b);
    printTable([
      ['takeover after kill -9 (3 runs)', 'ms'],
      ['kill → first retried request starts, median', takeovers[1].toFixed(0)],
      ['kill → first retried request starts, worst', takeovers[2].toFixed(0)],
      [`target: TTL + 1 s`, String(CLUSTER_TTL_MS + 1_000)],
    ]);

    // "one of 3": all 16 connections on one node that is not alone, so that it reads the database as every node of a cluster does; against "1 node" it is the cost of that, against "3 nodes" the cost of three daemons sharing this machine's cores.
    const rows: string[][] = [['op (16 connections)', 'workload', '1 node ops/s', 'one of 3 ops/s', '3 nodes ops/s', '3 nodes / 1 node', 'bare ops/s', '1 node / bare']];
    const single = await nodes('state1', 1);
    const spread = await nodes('state3', 3);
    for (const [op, request] of [['state:set', setRequest], ['state:get', getRequest]] as const) {
      const options = { connections: 16, window: 1, total: 20_000, request };
      await drive(single[0].socket, { ...options, total: 2_000 });
      const alone = await drive(single[0].socket, options);
      const oneOfThree = await drive(spread[0].socket, options);
      const spreadRun = await driveSpread(spread.map((node) => node.socket), options);
      const base = await drive(bareSocket, options);
      rows.push([op, '16 connections', fmt(alone.opsPerSecond), fmt(oneOfThree.opsPerSecond), fmt(spreadRun), `${((spreadRun / alone.opsPerSecond) * 100).toFixed(0)}%`, fmt(base.opsPerSecond), pct(alone, base)]);
    }
    await stopAll([...single, ...spread]);
    printTable(rows);
  } finally {
    cluster.stop();
  }
}

/** One load spread over several daemons at once (connections split between them); the ops per second of all of them together. */
async function driveSpread(sockets: string[], options: { connections: number; window: number; total: number; request: RequestFactory }): Promise<number> {
  const started = performance.now();
  const share = (total: number, index: number) => Math.floor(total / sockets.length) + (index < total % sockets.length ? 1 : 0);
  const runs = await Promise.all(sockets.map((socket, index) => drive(socket, { ...options, connections: share(options.connections, index), total: share(options.total, index) })));
  return (runs.reduce((sum, run) => sum + run.ops, 0) / (performance.now() - started)) * 1000;
}

/** The fake CLI's starts for a request, in the order they were logged. */
function invocationsOf(log: string, requestId: string): { time: number }[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.includes(requestId))
    .map((line) => JSON.parse(line) as { time: number; answered?: boolean; env?: { KSI_REQUEST_ID?: string } })
    .filter((entry) => !entry.answered && entry.env?.KSI_REQUEST_ID === requestId);
}

/** Stops with nothing in flight, and with 10,000 queued; then the start that restores those 10,000. */
async function restoreRows(dir: string, database: DatabaseFor): Promise<string[][]> {
  const idleStop = await startDaemon(path.join(dir, 'idle-stop'), await database('idle_stop'));
  const idleStopMs = await timedStop(idleStop.child);
  const restoreDir = path.join(dir, 'restore');
  const held = { CLAUDE_BIN: FAKE_CLAUDE, KSI_MAX_CONCURRENT: '1', ...(await database('restore')) };
  const loaded10k = await startDaemon(restoreDir, held);
  await queueMany(loaded10k.socket, 10_000, (i) => ({ prompt: i === 0 ? 'hold [[sleep:600000]]' : `queued ${i}`, conversation_id: 'held' }));
  const busyStopMs = await timedStop(loaded10k.child);
  const restarted = await startDaemon(restoreDir, held);
  const restoredMs = await untilRestored(restarted.socket, restarted.readyMs);
  await stopDaemon(restarted.child);
  return [
    ['measure', 'value'],
    ['graceful stop, nothing in flight (SIGTERM → exit)', `${idleStopMs.toFixed(0)} ms`],
    ['graceful stop, 10,000 queued and 1 running', `${busyStopMs.toFixed(0)} ms`],
    ['start with 10,000 queued: spawn → restore done (PostgreSQL target <= 3 s)', `${restoredMs.toFixed(0)} ms`],
  ];
}

/** `memory N` writes N values instead (a quicker probe). */
const LARGE_WRITES = Number(process.argv[3] ?? 5_000);

/**
 * The web dashboard (KSI_HTTP_PORT): the daemon's RSS at start with and without it (target: within
 * 10 MB), and in headless Chromium the time from navigation to the agent list with 200 agents and
 * 10,000 events in the log (target < 1 s).
 */
async function dashboardSection(dir: string): Promise<void> {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));
  const plain = await startDaemon(path.join(dir, 'dashboard-off'));
  await settle();
  const rssOff = rssMb(plain.child.pid!);
  await stopDaemon(plain.child);
  const daemon = await startDaemon(path.join(dir, 'dashboard-on'), { KSI_HTTP_PORT: '0', CLAUDE_BIN: FAKE_CLAUDE });
  try {
    await settle();
    const rssOn = rssMb(daemon.child.pid!);
    console.log('\nDashboard');
    const rows = [
      ['measure', 'value'],
      ['daemon RSS right after start, dashboard off / on (target: within 10 MB)', `${rssOff.toFixed(1)} / ${rssOn.toFixed(1)} MB`],
    ];
    const browser = chromiumPath();
    if (browser) {
      const client = new KsiClient({ socketPath: daemon.socket });
      try {
        for (let i = 0; i < 200; i++) await client.sendSingle('agent:spawn', { profile: 'base_agent', agent_id: `bench-agent-${i}` });
        await drive(daemon.socket, { connections: 1, window: 64, total: 10_000, request: setRequest });
        const { url } = (await client.sendSingle('monitor:dashboard')) as { url: string };
        const paint = await dashboardPaint(browser, url, 200);
        rows.push(['first contentful paint (median of 5 loads)', `${paint.firstContentfulPaintMs.toFixed(0)} ms`]);
        rows.push(['agent list with 200 agents, 10,000 events logged (target < 1 s)', `${paint.agentListMs.toFixed(0)} ms`]);
      } finally {
        await client.close();
      }
    } else rows.push(['page timings', 'Chromium not found (/usr/bin/chromium): left out']);
    printTable(rows);
  } finally {
    await stopDaemon(daemon.child);
  }
}

/** A section run alone, with a bare server of its own. */
function withBareServer(section: (dir: string, bareSocket: string) => Promise<void>): (dir: string) => Promise<void> {
  return async (dir) => {
    const bareSocket = path.join(dir, 'bare.sock');
    const bare = fork(BARE_SERVER, [bareSocket], { stdio: 'ignore' });
    await new Promise((resolve) => bare.once('message', resolve));
    try {
      await section(dir, bareSocket);
    } finally {
      bare.kill();
    }
  };
}

async function stateAlone(dir: string, bareSocket: string): Promise<void> {
  const daemon = await startDaemon(path.join(dir, 'main'));
  try {
    await stateSection(dir, daemon.socket, bareSocket);
  } finally {
    await stopDaemon(daemon.child);
  }
}

/** State operations on SQLite beside the bare server, and what the event log costs them. */
async function stateSection(dir: string, socket: string, bareSocket: string): Promise<void> {
  console.log(`State over the socket (KSI daemon on its default SQLite file vs bare Node NDJSON server with an in-memory Map; each row the round with the median ratio of ${STATE_ROUNDS}, KSI and the server alternating; "rounds": the lowest and highest ratio)`);
  printTable(await stateRows(socket, bareSocket));
  console.log(`(x Python: against the original Python KSI's ~${PYTHON_KSI_OPS} state ops/s in every mode)\n`);

  const noLog = await startDaemon(path.join(dir, 'no-event-log'), { KSI_EVENT_LOG: 'off' });
  const options = { ...workloads[1], request: setRequest };
  const { ksi: setWith, base: setWithout, spread } = await medianRound(() => drive(socket, options), () => drive(noLog.socket, options));
  await stopDaemon(noLog.child);
  console.log(`Cost of the event log: state:set, 16 connections (the round with the median ratio of ${STATE_ROUNDS}, alternating; rounds ${spread})`);
  printTable([
    ['event log', 'ops/s', 'ratio'],
    ['on (default)', fmt(setWith.opsPerSecond), pct(setWith, setWithout)],
    ['off (KSI_EVENT_LOG=off)', fmt(setWithout.opsPerSecond), '100%'],
  ]);
  console.log('');
}

/**
 * Process start to exit of CLI commands beside `node -e ''` (target: ksi send p50 < 250 ms where
 * node -e '' takes 50-70 ms, about 4x).
 */
function cliSection(socket: string): void {
  const cliEnv = { ...process.env, KSI_SOCKET_PATH: socket };
  const bareNode = timeCommand(['-e', ''], cliEnv);
  const rows = [
    ['ksi send system:health', timeCommand(ksiCommand('send', 'system:health'), cliEnv)],
    ['ksi status', timeCommand(ksiCommand('status'), cliEnv)],
    ["node -e ''", bareNode],
  ] as const;
  console.log('CLI, process start to exit (15 runs)');
  printTable([['command', 'p50 ms', 'p90 ms', 'p50 / node'], ...rows.map(([name, timing]) => [name, timing.p50Ms.toFixed(0), timing.p90Ms.toFixed(0), `${(timing.p50Ms / bareNode.p50Ms).toFixed(1)}x`])]);
  console.log('');
}

async function cliAlone(dir: string): Promise<void> {
  const daemon = await startDaemon(path.join(dir, 'main'));
  try {
    cliSection(daemon.socket);
  } finally {
    daemon.child.kill('SIGTERM');
  }
}

async function alone(section: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-bench-'));
  try {
    await section(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The fake CLI (test/fixtures/fake-claude, stream-json like the real one) answering at once: the
 * daemon's overhead over spawning it directly, the delay a streamed text line gets on its way to the
 * client, a queue of 1,000, and permanent failures (which must end in one attempt).
 */
async function completionsSection(dir: string, database: DatabaseFor = sqliteFile): Promise<void> {
  console.log('\nCompletions with a fake Claude CLI that answers at once');
  const fakeState = path.join(dir, 'fake-claude-state');
  const withFake = async (name: string, extra: Record<string, string>) => ({ CLAUDE_BIN: FAKE_CLAUDE, FAKE_CLAUDE_STATE_DIR: fakeState, ...extra, ...(await database(name)) });
  const serialCount = 200;
  const serial = await startDaemon(path.join(dir, 'serial'), await withFake('serial', { KSI_MAX_CONCURRENT: '1' }));
  await spawnDirectly(10, fakeState);
  await drainCompletions(serial.socket, 10, 'warm');
  // Alternating rounds, so a machine that speeds up or slows down during the run weighs on both sides alike.
  let direct = 0;
  const viaDaemon = { ms: 0, results: 0 };
  for (let round = 0; round < 4; round++) {
    direct += await spawnDirectly(serialCount / 4, fakeState);
    const drained = await drainCompletions(serial.socket, serialCount / 4, `serial-${round}`);
    viaDaemon.ms += drained.ms;
    viaDaemon.results += drained.results;
  }
  // The same with a global budget: every attempt first adds up what was spent (a query over the completions).
  await requestOnce(serial.socket, 'budget:set', { scope: 'global', limit_usd: 1_000_000 });
  let directBudgeted = 0;
  const viaBudgeted = { ms: 0, results: 0 };
  for (let round = 0; round < 2; round++) {
    directBudgeted += await spawnDirectly(serialCount / 4, fakeState);
    const drained = await drainCompletions(serial.socket, serialCount / 4, `budgeted-${round}`);
    viaBudgeted.ms += drained.ms;
    viaBudgeted.results += drained.results;
  }
  await stopDaemon(serial.child);

  const stampsFile = path.join(dir, 'text-stamps.jsonl');
  const streaming = await startDaemon(path.join(dir, 'streaming'), await withFake('streaming', { KSI_MAX_CONCURRENT: '1', FAKE_CLAUDE_TEXT_STAMPS: stampsFile }));
  const streamDelays = (await streamingLatency(streaming.socket, serialCount, stampsFile)).sort((a, b) => a - b);
  const failures = await permanentFailures(streaming.socket, [
    ...Array.from({ length: 10 }, (_, i) => ({ prompt: `not logged in ${i} [[auth]]` })),
    ...Array.from({ length: 10 }, (_, i) => ({ prompt: `unknown session ${i}`, session_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` })),
  ]);
  await stopDaemon(streaming.child);
  const failureMs = failures.map((failure) => failure.ms).sort((a, b) => a - b);
  const failureAttempts = [...new Set(failures.map((failure) => `${failure.code} x${failure.attempts}`))].join(', ');

  const drainLog = path.join(dir, 'drain-invocations.jsonl');
  const drain = await startDaemon(path.join(dir, 'drain'), await withFake('drain', { KSI_MAX_CONCURRENT: '4', FAKE_CLAUDE_LOG: drainLog }));
  const thousand = await drainCompletions(drain.socket, 1_000, 'drain');
  await stopDaemon(drain.child);
  const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
  printTable([
    ['measure', 'value'],
    [`spawn the fake directly, ${serialCount} in a row (the daemon's arguments)`, `${(direct / serialCount).toFixed(1)} ms each`],
    [`${serialCount} queued through the daemon, KSI_MAX_CONCURRENT=1 (4 rounds, alternating with the above)`, `${(viaDaemon.ms / serialCount).toFixed(1)} ms each (${viaDaemon.results} results)`],
    ['daemon overhead per completion (target <= 10%)', `${((viaDaemon.ms / direct - 1) * 100).toFixed(1)}%`],
    [`the same with a global budget checked before each attempt (${serialCount / 2}, 2 rounds)`, `${((viaBudgeted.ms / directBudgeted - 1) * 100).toFixed(1)}% (${viaBudgeted.results} results)`],
    [`fake's first text line → client's streaming push, ${streamDelays.length} turns: p50 / p90 / max (target p50 < 5 ms)`, `${at(streamDelays, 0.5).toFixed(2)} / ${at(streamDelays, 0.9).toFixed(2)} / ${at(streamDelays, 1).toFixed(2)} ms`],
    [`permanent failures (10 not logged in, 10 unknown sessions): p50 / max (target < 2 s, 1 attempt)`, `${at(failureMs, 0.5).toFixed(0)} / ${at(failureMs, 1).toFixed(0)} ms; ${failureAttempts}`],
    ['1,000 queued, KSI_MAX_CONCURRENT=4: drain time', `${(thousand.ms / 1000).toFixed(1)} s (${((1000 / thousand.ms) * 1000).toFixed(0)} completions/s)`],
    ['1,000 queued: results / errors / CLI invocations', `${thousand.results} / ${thousand.errors} / ${countInvocations(drainLog)}`],
  ]);
}

/**
 * Memory under large values: a fresh daemon takes 5,000 state:set of distinct keys with ~1 MiB
 * values, beside a bare server that discards the values (the transport's own cost for the traffic).
 */
async function largeWritesSection(dir: string): Promise<void> {
  console.log(`\nmemory: ${LARGE_WRITES.toLocaleString('en-US')} state:set of ~1 MiB (distinct keys, 4 connections x 4 in flight)`);
  const daemon = await startDaemon(path.join(dir, 'large-writes'));
  const bareSocket = path.join(dir, 'bare-discard.sock');
  const bare = fork(BARE_SERVER, [bareSocket, '--discard'], { stdio: 'ignore' });
  await new Promise((resolve) => bare.once('message', resolve));
  try {
    const ksi = await largeWrites(daemon.socket, daemon.child.pid!, { writes: LARGE_WRITES });
    const base = await largeWrites(bareSocket, bare.pid!, { writes: LARGE_WRITES, readBack: false });
    printTable([
      ['server', 'peak RSS MB', 'acknowledged', 'read back', 'alive'],
      ['KSI daemon', ksi.peakRssMb.toFixed(0), `${ksi.acknowledged} (${ksi.failed} refused)`, String(ksi.readable), String(ksi.alive)],
      ['bare server, values discarded', base.peakRssMb.toFixed(0), String(base.acknowledged), '-', String(base.alive)],
    ]);
  } finally {
    await stopDaemon(daemon.child);
    bare.kill();
  }
}

async function startDaemon(varDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; socket: string; readyMs: number }> {
  const socket = path.join(varDir, 'run', 'daemon.sock');
  const started = performance.now();
  const child = spawn(process.execPath, daemonNodeArgs(), { env: { ...process.env, KSI_VAR_DIR: varDir, KSI_LOG_LEVEL: 'warn', ...env }, stdio: 'ignore' });
  while (!(await answers(socket))) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}`);
    if (performance.now() - started > 15_000) throw new Error('daemon did not start');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { child, socket, readyMs: performance.now() - started };
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('{"event":"system:health"}\n'));
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
  });
}

async function timedStop(child: ChildProcess): Promise<number> {
  const started = performance.now();
  await stopDaemon(child);
  return performance.now() - started;
}

/** Polls system:health until the start-up restore reports; returns ms since the spawn. */
async function untilRestored(socketPath: string, readyMs: number): Promise<number> {
  const started = performance.now() - readyMs;
  for (;;) {
    const health = await new Promise<{ restored?: { results?: { completion?: { restored_requests?: number } } } }>((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('error', reject);
      socket.once('connect', () => socket.write('{"event":"system:health"}\n'));
      onJsonLines(socket, (reply) => {
        socket.destroy();
        resolve(reply.data);
      });
    });
    if (health.restored) {
      const restored = health.restored.results?.completion?.restored_requests;
      if (restored !== 10_000) throw new Error(`restored ${restored} of 10000`);
      return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (ksi: LoadResult, base: LoadResult) => `${((ksi.opsPerSecond / base.opsPerSecond) * 100).toFixed(0)}%`;
const latency = (r: LoadResult) => `${r.p50Ms.toFixed(3)} / ${r.p99Ms.toFixed(3)}`;

function printTable(rows: string[][]): void {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  rows.forEach((row, index) => {
    console.log(row.map((cell, col) => cell.padEnd(widths[col])).join('  '));
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
