import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { postgresCluster } from "../../../test/support/test-database";
import type { KsiConfig } from "../../config/config";
import { openStorage } from "../../database/open-storage";
import type { Storage } from "../../database/storage";
import { CompletionRepository, type NewRequest } from "./completion.repository";
import { CostRepository } from "./cost.repository";
import { ProviderMessagesRepository } from "./provider-messages.repository";

const cluster = postgresCluster();
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1, 12);

const request = (
  requestId: string,
  fields: Partial<NewRequest> = {},
): NewRequest => ({
  requestId,
  status: "queued",
  queueKey: "default",
  sessionId: null,
  priority: 1,
  model: "sonnet",
  payload: "{}",
  attempts: 0,
  maxAttempts: 3,
  nextAttemptAt: T0,
  clientId: null,
  agentId: null,
  profile: null,
  account: "claude-cli",
  queuedAt: T0,
  cause: null,
  ...fields,
});

const nodeConfig = (id: string) => ({ node: { id } }) as KsiConfig;

const usage = (tokens: number) => ({
  input_tokens: tokens,
  output_tokens: 1,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
});

/** The same work on either dialect; what the repositories answered along the way. */
async function scenario(storage: Storage): Promise<Record<string, unknown>> {
  const requests = new CompletionRepository(storage, nodeConfig("node-a"));
  const other = new CompletionRepository(storage, nodeConfig("node-b"));
  const costs = new CostRepository(storage);
  const messages = new ProviderMessagesRepository(storage);
  const seen: Record<string, unknown> = {};

  await requests.insert(
    request("a1", {
      queueKey: "A",
      sessionId: "s1",
      agentId: "agent-1",
      profile: "p",
    }),
  );
  await requests.insert(
    request("a2", { queueKey: "A", sessionId: "s1", priority: 0 }),
  );
  await requests.insert(
    request("b1", { queueKey: "B", priority: 2, model: "anthropic/claude" }),
  );
  await requests.insert(
    request("c1", { queueKey: "C", priority: 0, nextAttemptAt: T0 + 5_000 }),
  );
  const [a1, b1] = (await requests.claim(T0, T0 + 1_000, 10))!;
  seen.claimed = [a1.requestId, b1.requestId];
  seen.nextWake = await requests.nextWake(T0);
  // Another node finds both queues running.
  seen.claimedElsewhere = await other.claim(T0, T0 + 1_000, 10);

  seen.started = [await requests.start(a1, T0 + 1), await other.start(a1, T0 + 2)];
  await requests.setPid(a1, 4242);
  await costs.record("a1", {
    cost_usd: 0.0001,
    usage: usage(10),
    num_turns: 1,
    duration_api_ms: 5,
  });
  seen.retried = await requests.retry(a1, T0 + 100, "busy", "overloaded", 5);
  seen.retrying = (await requests.retrying()).map(
    ({ requestId, maxAttempts, lastError, errorCode, pid, owner }) => ({
      requestId,
      maxAttempts,
      lastError,
      errorCode,
      pid,
      owner,
    }),
  );

  const [a1Again] = (await other.claim(T0 + 200, T0 + 1_200, 10))!;
  seen.epochs = [a1.leaseEpoch, a1Again.leaseEpoch];
  await other.start(a1Again, T0 + 200);
  await costs.record("a1", {
    cost_usd: 0.0002,
    usage: usage(20),
    num_turns: null,
    duration_api_ms: null,
  });
  // The first lease's late result changes nothing.
  seen.staleComplete = await requests.complete(a1, '{"stale":true}', "s9", "s1", T0 + 250);
  seen.completed = await other.complete(a1Again, '{"ok":true}', "s2", "s1", T0 + 300);
  const [a2] = (await requests.claim(T0 + 400, T0 + 1_400, 10))!;
  await requests.start(a2, T0 + 400);
  await requests.complete(a2, '{"ok":true}', "s3", "s2", T0 + 400);
  // A link made in the same millisecond as the one before still comes after it.
  await requests.insert(request("e1", { queueKey: "E", sessionId: "s3" }));
  const [e1] = (await requests.claim(T0 + 400, T0 + 1_400, 10))!;
  await requests.start(e1, T0 + 400);
  await requests.complete(e1, '{"ok":true}', "s4", "s3", T0 + 400);
  await requests.start(b1, T0 + DAY);
  await costs.record("b1", {
    cost_usd: 0.5,
    usage: usage(1),
    num_turns: 2,
    duration_api_ms: 7,
  });
  seen.runningByNode = Object.fromEntries(await requests.runningByNode());
  // Only the leases of attempts the node runs are renewed.
  seen.renewed = [...(await requests.renew(["b1", "a1"], T0 + DAY + 1_000)).keys()];
  seen.nextExpiry = [await other.nextExpiry([]), await requests.nextExpiry(["b1"])];
  const killedFirst: string[] = [];
  seen.takenOver = (await other.takeOverExpired(T0 + DAY + 2_000, [], (owner) => `lost ${owner}`, (row) => killedFirst.push(row.requestId))).map((row) => [row.requestId, row.owner, row.attempts]);
  seen.killedFirst = killedFirst;
  seen.b1TakenOver = await requests.byId("b1");
  const claimedLater = (await other.claim(T0 + DAY + 2_000, T0 + DAY + 3_000, 10))!;
  seen.claimedLater = claimedLater.map((row) => row.requestId);
  const [c1, b1Again] = claimedLater;
  // A claimed request that may not start yet (a usage window's stagger) goes back as it was.
  await other.release(c1);
  await other.start(b1Again, T0 + DAY + 2_000);
  // A restarting node requeues its own requests only, on a shared database.
  seen.requeued = [
    await requests.requeueInterrupted(T0 + DAY, "Interrupted by a daemon restart", "daemon_restart", false),
    await other.requeueInterrupted(T0 + DAY, "Interrupted by a daemon restart", "daemon_restart", false),
  ];
  seen.b1 = await requests.byId("b1");
  seen.cancelled = [
    await requests.cancelWaiting("c1", T0 + DAY),
    await requests.cancelWaiting("c1", T0 + DAY),
  ];
  await requests.insert(request("d1", { queueKey: "D" }));
  const [d1, b1Requeued] = (await requests.claim(T0 + DAY, T0 + DAY + 1_000, 10))!;
  await requests.release(b1Requeued);
  await requests.start(d1, T0 + DAY);
  await requests.fail(d1, "failed", "no", "invalid_request", T0 + DAY);

  seen.newest = [
    await requests.newestSession("s1"),
    await requests.newestSession("s3"),
    await requests.newestSession("unknown"),
  ];
  seen.chain = await requests.chain("s2");
  seen.ofChain = (await requests.ofChain("s1")).map((row) => row.requestId);
  seen.a1 = await requests.byId("a1");
  seen.missing = await requests.byId("nope");
  seen.active = await requests.active(true);
  seen.statuses = [
    ...(await requests.statuses(["a1", "b1", "c1", "nope"])),
  ].sort();
  seen.counts = await requests.counts();
  seen.queues = await requests.queues();

  seen.ofAgent = await costs.ofAgentId("agent-1");
  seen.nobody = await costs.ofAgentId("nobody");
  for (const by of ["agent", "profile", "session", "model", "day"] as const)
    seen[`by_${by}`] = await costs.byDimension(by, 0);
  seen.since = await costs.byDimension("model", T0 + DAY);

  await messages.append(
    "s2",
    "a1",
    [
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "text", text: "hello" }] },
    ],
    T0,
  );
  seen.messages = [await messages.of("s2"), await messages.of("s9")];
  return seen;
}

(cluster ? describe : describe.skip)(
  "completion repositories on SQLite and PostgreSQL",
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ksi-completion-storage-"));
    const answers: Record<string, Record<string, unknown>> = {};

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      [
        "sqlite",
        async () => ({ dbPath: path.join(dir, "ksi.db") }) as KsiConfig,
      ],
      [
        "postgres",
        async () =>
          ({
            databaseUrl: await cluster!.createDatabase("completion_storage"),
            node: { leaseTtlMs: 15_000 },
          }) as KsiConfig,
      ],
    ])(
      "runs the scheduling, session and cost queries on %s",
      async (dialect, config) => {
        const { storage, close } = await openStorage(await config());
        try {
          answers[dialect] = await scenario(storage);
        } finally {
          await close();
        }
      },
    );

    it("answers the same on both, as the scheduler, the views and cost:summary expect", () => {
      const seen = answers.sqlite;
      expect(seen.claimed).toEqual(["a1", "b1"]);
      expect(seen.nextWake).toBe(T0 + 5_000);
      expect(seen.claimedElsewhere).toEqual([]);
      expect(seen.started).toEqual([true, false]);
      expect(seen.retried).toBe(true);
      expect(seen.retrying).toEqual([
        {
          requestId: "a1",
          maxAttempts: 5,
          lastError: "busy",
          errorCode: "overloaded",
          pid: null,
          owner: null,
        },
      ]);
      expect(seen.epochs).toEqual([1, 2]);
      expect(seen.staleComplete).toBe(false);
      expect(seen.completed).toBe(true);
      expect(seen.runningByNode).toEqual({ "node-a": 1 });
      expect(seen.renewed).toEqual(["b1"]);
      expect(seen.nextExpiry).toEqual([T0 + DAY + 1_000, null]);
      expect(seen.takenOver).toEqual([["b1", "node-a", 1]]);
      expect(seen.killedFirst).toEqual(["b1"]);
      expect(seen.b1TakenOver).toMatchObject({ status: "queued", owner: null, leaseEpoch: 2, errorCode: "node_lost", attempts: 1 });
      expect(seen.claimedLater).toEqual(["c1", "b1"]);
      expect(seen.requeued).toEqual([[], ["b1"]]);
      expect(seen.b1).toMatchObject({
        status: "queued",
        attempts: 2,
        maxAttempts: 3,
        errorCode: "daemon_restart",
        costUsd: 0.5,
        numTurns: 2,
        leaseEpoch: 4,
      });
      expect(seen.cancelled).toEqual([true, false]);
      expect(seen.newest).toEqual(["s4", "s4", "unknown"]);
      expect(seen.chain).toEqual({
        root: "s1",
        sessions: ["s1", "s2", "s3", "s4"],
      });
      expect(seen.ofChain).toEqual(["a1", "a2", "e1"]);
      expect(seen.a1).toMatchObject({
        status: "completed",
        attempts: 2,
        resultSessionId: "s2",
        inputTokens: 30,
        numTurns: 1,
        durationApiMs: 5,
      });
      expect(seen.missing).toBeUndefined();
      expect(seen.active).toEqual([
        { requestId: "b1", status: "queued", attempts: 2, queueKey: "B", owner: null },
      ]);
      expect(seen.statuses).toEqual([
        ["a1", "completed"],
        ["b1", "queued"],
        ["c1", "cancelled"],
      ]);
      expect(seen.counts).toEqual({
        completed: 3,
        queued: 1,
        cancelled: 1,
        failed: 1,
      });
      expect(seen.queues).toEqual([
        { queueKey: "B", queued: 1, processing: 0 },
      ]);
      expect(seen.ofAgent).toMatchObject({
        requests: 1,
        turns: 1,
        usage: { input_tokens: 30 },
      });
      expect(seen.nobody).toEqual({
        cost_usd: 0,
        usage: {
          input_tokens: 0,
          output_tokens: 0,
          cache_read_input_tokens: 0,
          cache_creation_input_tokens: 0,
        },
        requests: 0,
        turns: 0,
      });
      expect(
        (seen.by_agent as { key: string | null }[]).map((row) => row.key),
      ).toEqual([null, "agent-1"]);
      expect(
        (seen.by_session as { key: string | null }[]).map((row) => row.key),
      ).toEqual([null, "s1"]);
      expect((seen.by_day as { key: string }[]).map((row) => row.key)).toEqual([
        "2025-01-01",
        "2025-01-02",
      ]);
      expect((seen.since as { key: string }[]).map((row) => row.key)).toEqual([
        "anthropic/claude",
        "sonnet",
      ]);
      expect(seen.messages).toEqual([
        [
          { role: "user", content: "hi" },
          { role: "assistant", content: [{ type: "text", text: "hello" }] },
        ],
        [],
      ]);
      expect(answers.postgres).toEqual(seen);
    });
  },
);
