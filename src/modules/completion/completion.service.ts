import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  parseModel,
  type CompletionAsyncResult,
  type CompletionRecord,
  type CompletionSummary,
  type completionAsyncParams,
  type QueueStatusResult,
  type RetryStatusResult,
  type SessionStatusResult,
  type StandardResponse,
  type z,
  systemReady,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { correlationStorage, type CorrelationScope } from '../../events/correlation';
import { EventBus } from '../../events/event-bus';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Listens } from '../../events/handles.decorator';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import type { AttemptOutcome } from './providers/attempt-outcome';
import { COMPLETION_PROVIDERS, type CompletionProvider, type Turn } from './providers/completion-provider';
import { cliMarkers, killCliProcessesOf } from './cli-processes';
import { CompletionRepository, type RequestRow } from './completion.repository';
import { CostRepository, recordedCost } from './cost.repository';
import { ResponseLog } from './response-log';
import { StreamedText } from './streamed-text';
import { backoffDelay } from './retry-policy';

type AsyncParams = z.output<typeof completionAsyncParams>;
interface InFlight {
  request_id: string;
  attempts: number;
  queue_key: string;
}
const PRIORITIES = ['high', 'normal', 'low'] as const;
/** Streamed text is pushed at most this often per turn (the first delta at once). */
const STREAMED_TEXT_WINDOW_MS = 50;
const FINISHED: CompletionRecord['status'][] = ['completed', 'failed', 'cancelled'];

/**
 * The completion queue: durable rows, one request at a time per queue key, at most
 * KSI_MAX_CONCURRENT Claude processes, retries with backoff, cancellation that kills the process group.
 */
@Injectable()
export class CompletionService {
  private readonly running = new Map<string, AbortController>();
  /** Each running request's attempt, so a cancel waits for that attempt only. */
  private readonly attempts = new Map<string, Promise<void>>();
  private readonly requesters = new Map<string, ClientConnection>();
  /** The event each request was accepted in, so its progress and result join that causal tree. */
  private readonly causes = new Map<string, CorrelationScope>();
  /** Requests whose attempt this stop interrupted; the checkpoint lists them as processing. */
  private readonly interrupted: string[] = [];
  private started = false;
  private stopping = false;
  private pumpScheduled = false;
  private wakeTimer?: NodeJS.Timeout;
  private readonly providers: Map<string, CompletionProvider>;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: CompletionRepository,
    private readonly costs: CostRepository,
    @Inject(COMPLETION_PROVIDERS) providers: CompletionProvider[],
    private readonly responses: ResponseLog,
    private readonly bus: EventBus,
  ) {
    this.providers = new Map(providers.map((provider) => [provider.name, provider]));
  }

  /** Work starts once the daemon is ready, so agents' MCP servers can reach the socket. */
  @Listens(systemReady)
  async start(): Promise<void> {
    if (this.started) return;
    await this.recoverInterrupted();
    this.started = true;
    this.schedulePump();
  }

  /** Running attempts are stopped (process groups killed) and go back to the queue for the next start. */
  @ShutdownHandler('completion')
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.wakeTimer);
    for (const abort of this.running.values()) abort.abort('shutdown');
    await Promise.allSettled([...this.attempts.values()]);
  }

  async accept(request: AsyncParams, context: EventContext): Promise<CompletionAsyncResult> {
    const params = await this.withAgentLimits({ ...request, model: request.model ?? this.config.defaultModel }, context);
    const requestId = randomUUID();
    const queueKey = params.conversation_id ?? params.session_id ?? 'default';
    const now = this.clock.now();
    await this.repo.insert({
      request_id: requestId,
      status: 'queued',
      queue_key: queueKey,
      session_id: params.session_id ?? null,
      priority: PRIORITIES.indexOf(params.priority),
      model: params.model as string,
      payload: JSON.stringify(params),
      attempts: 0,
      max_attempts: params.max_attempts ?? this.config.retry.maxAttempts,
      next_attempt_at: now,
      client_id: params.client_id ?? context.connection?.id ?? null,
      agent_id: params.agent_id ?? null,
      profile: await this.profileOf(params.agent_id, context),
      queued_at: now,
    });
    if (context.connection) this.requesters.set(requestId, context.connection);
    const cause = correlationStorage.getStore();
    if (cause) this.causes.set(requestId, cause);
    this.schedulePump();
    return { request_id: requestId, status: 'queued', queue_key: queueKey, message: 'Completion request queued for processing' };
  }

  /**
   * A request made by or for an agent runs with that agent's permissions: its effective tools (never
   * more than the request asks), its disallowed tools, and its sandbox as working directory. An
   * identified connection always acts as itself.
   */
  private async withAgentLimits(request: AsyncParams, context: EventContext): Promise<AsyncParams> {
    const agentId = context.agentId ?? request.agent_id;
    if (agentId === undefined) return request;
    const limited: AsyncParams = { ...request, agent_id: agentId };
    const permissions = await this.bus
      .requestOne<{ effective_tools: string[]; permissions: { tools: { disallowed: string[] } } }>('permission:get_agent', { agent_id: agentId }, context)
      .catch(() => undefined);
    if (!permissions && context.agentId !== undefined) throw new EventError('permission_denied', `Agent ${agentId} has no permissions`);
    if (permissions) {
      const wanted = request.allowed_tools;
      limited.allowed_tools = wanted ? wanted.filter((tool) => permissions.effective_tools.includes(tool)) : permissions.effective_tools;
      limited.disallowed_tools = [...new Set([...(request.disallowed_tools ?? []), ...permissions.permissions.tools.disallowed])];
    }
    const sandbox = await this.bus.requestOne<{ sandbox: { workspace: string } }>('sandbox:get', { agent_id: agentId }, context).catch(() => undefined);
    if (sandbox && (context.agentId !== undefined || request.cwd === undefined)) limited.cwd = sandbox.sandbox.workspace;
    return limited;
  }

  /** The composed profile of the agent a request runs for, so costs add up by profile; none for an agent KSI does not manage. */
  private async profileOf(agentId: string | undefined, context: EventContext): Promise<string | null> {
    if (agentId === undefined) return null;
    const agent = await this.bus.requestOne<{ profile: string }>('agent:profile', { agent_id: agentId }, context).catch(() => undefined);
    return agent?.profile ?? null;
  }

  async cancel(requestId: string): Promise<{ request_id: string; status: 'cancelled' }> {
    const row = this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    const running = this.running.get(requestId);
    if (running) {
      running.abort('cancel');
      await this.attempts.get(requestId);
    } else if (await this.repo.cancelWaiting(requestId, this.clock.now())) {
      this.notify('completion:cancelled', { request_id: requestId, session_id: row.session_id }, requestId, true);
      this.schedulePump();
    } else {
      const current = this.repo.byId(requestId);
      throw new EventError('invalid_state', `Request ${requestId} is already ${current?.status}`, { status: current?.status });
    }
    return { request_id: requestId, status: 'cancelled' };
  }

  record(requestId: string): CompletionRecord {
    const row = this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    return toRecord(row);
  }

  summary(): CompletionSummary {
    const counts = this.repo.counts();
    const statusCounts = { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 0, ...counts };
    return {
      status_counts: statusCounts,
      active_completions: statusCounts.queued + statusCounts.processing,
      concurrency: { limit: this.config.maxConcurrent, running: this.running.size },
      service_ready: this.started && !this.stopping,
    };
  }

  retryStatus(): RetryStatusResult {
    const { maxAttempts, initialDelayMs, maxDelayMs, multiplier } = this.config.retry;
    const retrying = this.repo.retrying().map((row) => ({
      request_id: row.request_id,
      attempts: row.attempts,
      max_attempts: row.max_attempts,
      next_attempt_at: row.next_attempt_at / 1000,
      last_error: row.last_error,
    }));
    return {
      policy: { max_attempts: maxAttempts, initial_delay_ms: initialDelayMs, max_delay_ms: maxDelayMs, multiplier, jitter: 'full' },
      retrying,
      count: retrying.length,
    };
  }

  queueStatus(): QueueStatusResult {
    const queues = this.repo.queues();
    return {
      queued: queues.reduce((sum, queue) => sum + queue.queued, 0),
      processing: queues.reduce((sum, queue) => sum + queue.processing, 0),
      limit: this.config.maxConcurrent,
      queues,
    };
  }

  sessionStatus(sessionId: string): SessionStatusResult {
    const { root, sessions } = this.repo.chain(sessionId);
    return {
      session_id: sessionId,
      root_session_id: root,
      newest_session_id: this.repo.newestSession(sessionId),
      chain: sessions,
      completions: this.repo.bySessions(sessions).map((row) => {
        const { request_id, status, session_id, result_session_id, queued_at, completed_at } = toRecord(row);
        return { request_id, status, session_id, result_session_id, queued_at, completed_at };
      }),
    };
  }

  /** The checkpoint's view: every accepted request not finished yet. */
  inFlight(): { queued: InFlight[]; processing: InFlight[] } {
    const active = this.repo.active();
    const wasRunning = (row: { request_id: string; status: string }) => row.status === 'processing' || this.interrupted.includes(row.request_id);
    const slice = ({ request_id, attempts, queue_key }: InFlight) => ({ request_id, attempts, queue_key });
    return { queued: active.filter((row) => !wasRunning(row)).map(slice), processing: active.filter(wasRunning).map(slice) };
  }

  /**
   * The rows are the truth, so a restore re-runs nothing by itself: it checks that what the
   * checkpoint lists is still pending (it runs) or already finished (it must not run again).
   */
  restoreFrom(slice: { queued?: InFlight[]; processing?: InFlight[] } | undefined): Record<string, unknown> {
    const listed = [...(slice?.queued ?? []), ...(slice?.processing ?? [])];
    const pending: string[] = [];
    const finished: string[] = [];
    const missing: string[] = [];
    for (const { request_id } of listed) {
      const row = this.repo.byId(request_id);
      if (!row) missing.push(request_id);
      else if (row.status === 'queued' || row.status === 'processing') pending.push(request_id);
      else finished.push(request_id);
    }
    this.schedulePump();
    return {
      restored_requests: pending.length,
      retried_after_restart: (slice?.processing ?? []).filter(({ request_id }) => pending.includes(request_id)).length,
      already_finished: finished.length,
      missing,
    };
  }

  /**
   * Requests a crashed daemon left `processing` run again, once every CLI process it started is
   * killed: found by the marker in their environment, so none runs beside its retry.
   */
  private async recoverInterrupted(): Promise<void> {
    const orphans = killCliProcessesOf(this.config.varDir);
    if (orphans.length > 0) this.log.warn({ pids: orphans }, 'killed Claude CLI processes left by a previous daemon');
    const now = this.clock.now();
    for (const row of this.repo.interrupted()) {
      await this.repo.retry(row.request_id, now, 'Interrupted by a daemon restart', 'daemon_restart', row.attempts + 1);
      this.log.warn({ request_id: row.request_id }, 'requeued a completion interrupted by a daemon restart');
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.started || this.stopping) return;
    const now = this.clock.now();
    const free = this.config.maxConcurrent - this.running.size;
    if (free > 0) {
      const rows = this.repo.runnable(now, free + this.running.size).filter((row) => !this.running.has(row.request_id));
      for (const row of rows.slice(0, free)) this.launch(row);
    }
    this.armWakeTimer(now);
  }

  /**
   * Wakes the pump when the earliest backoff of a queue head ends. Due rows that wait for the
   * concurrency limit or behind a running head are pumped when an attempt ends, not by this timer.
   * `now` is the pump's own: a backoff ending between its query and this one still gets its timer.
   */
  private armWakeTimer(now: number): void {
    clearTimeout(this.wakeTimer);
    const next = this.repo.nextWake(now);
    if (next === null) return;
    const delay = Math.max(0, next - this.clock.now());
    this.wakeTimer = setTimeout(() => this.schedulePump(), Math.min(delay, 2 ** 31 - 1)).unref();
  }

  private launch(row: RequestRow): void {
    const abort = new AbortController();
    this.running.set(row.request_id, abort);
    const cause = this.causes.get(row.request_id) ?? { correlationId: row.request_id, eventId: row.request_id };
    const attempt = correlationStorage
      .run(cause, () => this.attempt(row, abort))
      .catch((error: Error) => this.endUnexpected(row, abort.signal, error))
      .finally(() => {
        this.running.delete(row.request_id);
        this.attempts.delete(row.request_id);
        this.schedulePump();
      });
    this.attempts.set(row.request_id, attempt);
  }

  private async attempt(row: RequestRow, abort: AbortController): Promise<void> {
    const id = row.request_id;
    const payload = JSON.parse(row.payload) as AsyncParams;
    const locking = payload.conversation_lock?.enabled === true;
    if (locking && !(await this.takeLock(row, payload.conversation_lock?.timeout ?? 300))) return;
    try {
      if (!(await this.repo.start(id, this.clock.now()))) return;
      const attempt = row.attempts + 1;
      const resume = row.session_id ? this.repo.newestSession(row.session_id) : undefined;
      const model = parseModel(row.model);
      const provider = model && this.providers.get(model.provider);
      const progress = (fields: Record<string, unknown>) => this.notify('completion:progress', { request_id: id, session_id: row.session_id, attempt, ...fields }, id);
      progress({ status: 'calling_llm', resume_session_id: resume ?? null });
      const text = new StreamedText(STREAMED_TEXT_WINDOW_MS, () => this.clock.now(), (delta) => progress({ status: 'streaming', delta }));
      const outcome = provider
        ? await provider.run(this.turn(id, payload, model.name, resume), abort.signal, {
            spawned: (pid) => void this.repo.setPid(id, pid),
            progress: (update) => {
              if (update.status === 'streaming') return text.add(update.delta);
              text.flush();
              progress(update);
            },
          })
        : ({ ok: false, code: 'invalid_request', message: `No provider runs the model ${row.model}`, retryable: false, durationMs: 0 } as const);
      text.flush();
      await this.settle(row, attempt, resume, abort.signal, outcome, provider?.name ?? 'claude-cli');
    } finally {
      if (locking) await this.bus.request('conversation:release_lock', { request_id: id }).catch(() => undefined);
    }
  }

  /**
   * An attempt that threw (a bug, a storage error) still ends its row: back to the queue when the
   * daemon is stopping, else failed with `internal_error`, so nothing stays `processing`.
   */
  private async endUnexpected(row: RequestRow, signal: AbortSignal, error: Error): Promise<void> {
    const id = row.request_id;
    this.log.error({ request_id: id, err: error.stack }, 'completion attempt failed unexpectedly');
    try {
      const current = this.repo.byId(id);
      if (current?.status !== 'processing') return;
      if (signal.aborted && signal.reason === 'shutdown') {
        await this.repo.retry(id, this.clock.now(), 'Interrupted by a daemon shutdown', 'daemon_restart', current.attempts + 1);
        this.interrupted.push(id);
        return;
      }
      if (signal.aborted) {
        await this.repo.fail(id, 'cancelled', 'Cancelled', 'cancelled', this.clock.now());
        this.notify('completion:cancelled', { request_id: id, session_id: row.session_id }, id, true);
        return;
      }
      const message = `The daemon could not finish this attempt: ${error.message}`;
      await this.repo.fail(id, 'failed', message, 'internal_error', this.clock.now());
      const failure = { request_id: id, session_id: row.session_id, error: message, code: 'internal_error', attempts: current.attempts };
      this.notify('completion:error', failure, id, true);
      this.bus.emit('completion:failed', failure);
    } catch (storage) {
      this.log.error({ request_id: id, err: (storage as Error).message }, 'a failed completion attempt could not be recorded; it runs again at the next start');
    }
  }

  /** The conversation lock, or back to the queue (no attempt counted) to try again in a second. */
  private async takeLock(row: RequestRow, timeoutSeconds: number): Promise<boolean> {
    const lock = await this.bus
      .requestOne<{ acquired: boolean; holder?: string }>('conversation:acquire_lock', { request_id: row.request_id, conversation_id: row.queue_key, timeout_seconds: timeoutSeconds })
      .catch((): { acquired: boolean; holder?: string } => ({ acquired: true }));
    if (lock.acquired) return true;
    await this.repo.retry(row.request_id, this.clock.now() + 1_000, `Waiting for the conversation lock on ${row.queue_key}, held by ${lock.holder}`, 'lock_wait');
    return false;
  }

  private async settle(row: RequestRow, attempt: number, resume: string | undefined, signal: AbortSignal, outcome: AttemptOutcome, provider: CompletionProvider['name']): Promise<void> {
    const id = row.request_id;
    const now = this.clock.now();
    // Whatever ends the attempt, the money it reports was spent.
    if (outcome.cost) await this.costs.record(id, outcome.cost);
    if (signal.aborted && signal.reason === 'shutdown') {
      await this.repo.retry(id, now, 'Interrupted by a daemon shutdown', 'daemon_restart', attempt + 1);
      this.interrupted.push(id);
      return;
    }
    if (signal.aborted) {
      await this.repo.fail(id, 'cancelled', 'Cancelled', 'cancelled', now);
      this.notify('completion:cancelled', { request_id: id, session_id: row.session_id }, id, true);
      return;
    }
    if (outcome.ok) {
      const sessionId = outcome.response.session_id;
      const standard: StandardResponse = {
        ksi: {
          provider,
          request_id: id,
          timestamp: new Date(now).toISOString(),
          duration_ms: outcome.durationMs,
          attempt,
          prompt: promptOf(JSON.parse(row.payload) as AsyncParams),
          resumed_session_id: resume ?? null,
          ...(row.client_id && { client_id: row.client_id }),
          ...(row.agent_id && { agent_id: row.agent_id }),
        },
        response: outcome.response,
      };
      await this.repo.complete(id, JSON.stringify(standard), sessionId, resume, now);
      if (sessionId) await this.responses.append(sessionId, standard).catch((error: Error) => this.log.warn({ err: error.message }, 'response log not written'));
      this.notify('completion:result', { request_id: id, session_id: sessionId ?? null, result: standard }, id, true);
      return;
    }
    if (outcome.retryable && attempt < row.max_attempts) {
      const at = outcome.retryAt ?? now + backoffDelay(this.config.retry, attempt);
      await this.repo.retry(id, at, outcome.message, outcome.code);
      this.notify('completion:progress', { request_id: id, session_id: row.session_id, status: 'retry_scheduled', attempt, next_attempt_at: at / 1000, error: outcome.message, code: outcome.code }, id);
      return;
    }
    await this.repo.fail(id, 'failed', outcome.message, outcome.code, now);
    const failure = { request_id: id, session_id: row.session_id, error: outcome.message, code: outcome.code, attempts: attempt };
    this.notify('completion:error', failure, id, true);
    this.bus.emit('completion:failed', failure);
  }

  /** A new session gets its id from KSI (a fresh one per attempt: a failed attempt may have created its session). */
  private turn(requestId: string, payload: AsyncParams, model: string, resume: string | undefined): Turn {
    const ksi = (payload.extra_body as { ksi?: Record<string, any> } | undefined)?.ksi ?? {};
    return {
      requestId,
      prompt: promptOf(payload),
      model,
      sessionId: resume ?? randomUUID(),
      resume: resume !== undefined,
      allowedTools: payload.allowed_tools ?? ksi.permissions?.allowed_tools,
      disallowedTools: payload.disallowed_tools ?? ksi.permissions?.disallowed_tools,
      maxTurns: payload.max_turns,
      mcpConfig: payload.mcp_config ?? ksi.mcp_config_path,
      systemPrompt: payload.system_prompt,
      cwd: payload.cwd ?? ksi.sandbox_dir,
      // withAgentLimits names the agent of every request made by or for one: it never loads its workspace's settings.
      ...(payload.agent_id !== undefined && { settingSources: ['user'] }),
      timeoutMs: payload.timeout !== undefined ? payload.timeout * 1000 : this.config.completionTimeoutMs,
      env: cliMarkers(this.config.varDir, requestId),
    };
  }

  /** Pushes to the requesting connection and raises the event inside the daemon (monitors, agents). */
  private notify(event: string, payload: Record<string, unknown>, requestId: string, final = false): void {
    const connection = this.requesters.get(requestId);
    if (connection && !connection.push(event, payload)) this.requesters.delete(requestId);
    if (final) {
      this.requesters.delete(requestId);
      setImmediate(() => this.causes.delete(requestId));
    }
    this.bus.emit(event, payload);
  }
}

/** The prompt: `prompt`, else the text of the last user message. */
function promptOf(payload: AsyncParams): string {
  if (payload.prompt !== undefined) return payload.prompt;
  const messages = payload.messages ?? [];
  const last = [...messages].reverse().find((message) => message.role === 'user') ?? messages[messages.length - 1];
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String((part as { text: unknown }).text) : '')).join('');
}

function toRecord(row: RequestRow): CompletionRecord {
  return {
    request_id: row.request_id,
    status: row.status,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    session_id: row.session_id,
    result_session_id: row.result_session_id,
    queue_key: row.queue_key,
    model: row.model,
    priority: PRIORITIES[row.priority] ?? 'normal',
    ...(row.result && { result: JSON.parse(row.result) as StandardResponse }),
    ...(row.last_error && row.status !== 'completed' && { error: row.last_error }),
    ...(row.error_code && { error_code: row.error_code }),
    ...(row.pid !== null && { pid: row.pid }),
    queued_at: row.queued_at / 1000,
    ...(row.started_at !== null && { started_at: row.started_at / 1000 }),
    ...(row.completed_at !== null && { completed_at: row.completed_at / 1000 }),
    ...(row.status === 'queued' && row.attempts > 0 && { next_attempt_at: row.next_attempt_at / 1000 }),
    ...(row.profile !== null && { profile: row.profile }),
    ...((row.attempts > 0 || FINISHED.includes(row.status)) && recordedCost(row)),
  };
}
