import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { agentBridgeConfig, APPROVAL_PROMPT_TOOL_NAME, budgetCheck, completionProgress, conversationAcquireLock, conversationReleaseLock, parseModel } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';
import { AttemptSettlement } from './attempt-settlement';
import { cliMarkers } from './cli-processes';
import type { AsyncParams } from './completion-admission';
import { CompletionNotifier } from './completion-notifier';
import type { CompletionRequest } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import type { AttemptOutcome } from './providers/attempt-outcome';
import { COMPLETION_PROVIDERS, type CompletionProvider, type Turn } from './providers/completion-provider';
import { StreamedText } from './streamed-text';

/** Streamed text is pushed at most this often per turn (the first delta at once). */
const STREAMED_TEXT_WINDOW_MS = 50;

/** One attempt of a request: the conversation lock, the provider's turn with its progress, then its settlement. */
@Injectable()
export class AttemptRunner {
  private readonly providers: Map<string, CompletionProvider>;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: CompletionRepository,
    @Inject(COMPLETION_PROVIDERS) providers: CompletionProvider[],
    private readonly settlement: AttemptSettlement,
    private readonly notifier: CompletionNotifier,
    private readonly bus: EventBus,
  ) {
    this.providers = new Map(providers.map((provider) => [provider.name, provider]));
  }

  /** `freeSlot`: the attempt's process has ended and its cost is queued to be written (see Attempt). */
  async run(row: CompletionRequest, abort: AbortController, freeSlot: () => void): Promise<void> {
    const id = row.requestId;
    const payload = JSON.parse(row.payload) as AsyncParams;
    // Every budget that applies is checked before each attempt: the turn is not started once one is spent.
    const budget = await this.bus.requestOne(budgetCheck, { agent_id: row.agentId ?? undefined, profile: row.profile });
    if (budget.exhausted) return this.settlement.refuseOverBudget(row, budget.exhausted);
    const locking = payload.conversation_lock?.enabled === true;
    if (locking && !(await this.takeLock(row, payload.conversation_lock?.timeout ?? 300))) return;
    try {
      if (!(await this.repo.start(row, this.clock.now()))) return;
      const attempt = row.attempts + 1;
      const resume = row.sessionId ? await this.repo.newestSession(row.sessionId) : undefined;
      const model = parseModel(row.model);
      const provider = model && this.providers.get(model.provider);
      const base = { request_id: id, session_id: row.sessionId, attempt };
      this.notifier.notify(completionProgress, { ...base, status: 'calling_llm', resume_session_id: resume ?? null });
      const text = new StreamedText(STREAMED_TEXT_WINDOW_MS, () => this.clock.now(), (delta) => this.notifier.notify(completionProgress, { ...base, status: 'streaming', delta }));
      const bridge = await this.mcpConfigOf(row, payload);
      let outcome: AttemptOutcome;
      if (!provider) outcome = { ok: false, code: 'invalid_request', message: `No provider runs the model ${row.model}`, retryable: false, durationMs: 0 };
      else if ('failure' in bridge) outcome = bridge.failure;
      else
        outcome = await provider.run({ ...this.turn(id, payload, model.name, resume, bridge.path), ...(budget.remaining_usd !== null && { maxBudgetUsd: budget.remaining_usd }) }, abort.signal, {
          spawned: (pid) => void this.repo.setPid(row, pid).catch((error: Error) => this.log.warn({ request_id: id, err: error.message }, 'pid of a completion attempt not recorded')),
          progress: (update) => {
            if (update.status === 'streaming') return text.add(update.delta);
            text.flush();
            this.notifier.notify(completionProgress, { ...base, ...update });
          },
        });
      text.flush();
      await this.settlement.settle({ row, number: attempt, prompt: promptOf(payload), resume, signal: abort.signal, freeSlot }, outcome, provider?.name ?? 'claude-cli');
    } finally {
      if (locking) await this.bus.request(conversationReleaseLock, { request_id: id });
    }
  }

  /**
   * An attempt that threw (a bug, a storage error) still ends its row: back to the queue when the
   * daemon is stopping, else failed with `internal_error`, so nothing stays `processing`.
   */
  async endUnexpected(row: CompletionRequest, signal: AbortSignal, error: Error): Promise<void> {
    const id = row.requestId;
    this.log.error({ request_id: id, err: error.stack }, 'completion attempt failed unexpectedly');
    try {
      const current = await this.repo.byId(id);
      if (current?.status !== 'processing' || current.leaseEpoch !== row.leaseEpoch) return;
      if (await this.settlement.endIfAborted(row, current.attempts, signal, this.clock.now())) return;
      const message = `The daemon could not finish this attempt: ${error.message}`;
      if (!(await this.repo.fail(row, 'failed', message, 'internal_error', this.clock.now()))) return;
      this.notifier.failed({ request_id: id, session_id: row.sessionId, error: message, code: 'internal_error', attempts: current.attempts });
    } catch (storage) {
      this.log.error({ request_id: id, err: (storage as Error).message }, 'a failed completion attempt could not be recorded; it runs again at the next start');
    }
  }

  /** The conversation lock, or back to the queue (no attempt counted) to try again in a second. */
  private async takeLock(row: CompletionRequest, timeoutSeconds: number): Promise<boolean> {
    const lock = await this.bus
      .requestOne(conversationAcquireLock, { request_id: row.requestId, conversation_id: row.queueKey, timeout_seconds: timeoutSeconds })
      .catch(() => ({ acquired: true }) as const);
    if (lock.acquired) return true;
    await this.repo.retry(row, this.clock.now() + 1_000, `Waiting for the conversation lock on ${row.queueKey}, held by ${lock.holder}`, 'lock_wait');
    return false;
  }

  /**
   * The turn's --mcp-config. An agent's own bridge is looked up where the attempt runs: a config written
   * on another node reaches that node's socket, and the attempt may run here because that node is gone.
   */
  private async mcpConfigOf(row: CompletionRequest, payload: AsyncParams): Promise<{ path: string | undefined } | { failure: AttemptOutcome }> {
    if (!payload.agent_bridge || row.agentId === null) return { path: payload.mcp_config ?? ksiOf(payload).mcp_config_path };
    try {
      return { path: (await this.bus.requestOne(agentBridgeConfig, { agent_id: row.agentId })).path };
    } catch (error) {
      // An agent terminated while its turn waited has no bridge to get; anything else (storage) may pass.
      const gone = error instanceof EventError && error.code === 'not_found';
      const message = `The MCP bridge of agent ${row.agentId} could not be prepared on this node: ${(error as Error).message}`;
      return { failure: { ok: false, code: gone ? 'invalid_request' : 'cli_failed', message, retryable: !gone, durationMs: 0 } };
    }
  }

  /** A new session gets its id from KSI (a fresh one per attempt: a failed attempt may have created its session). */
  private turn(requestId: string, payload: AsyncParams, model: string, resume: string | undefined, mcpConfig: string | undefined): Turn {
    const ksi = ksiOf(payload);
    return {
      requestId,
      prompt: promptOf(payload),
      model,
      sessionId: resume ?? randomUUID(),
      resume: resume !== undefined,
      allowedTools: payload.allowed_tools ?? ksi.permissions?.allowed_tools,
      disallowedTools: payload.disallowed_tools ?? ksi.permissions?.disallowed_tools,
      maxTurns: payload.max_turns,
      mcpConfig,
      // An agent's own MCP server (its bridge) answers for it: a tool outside its allow list waits for approval instead of failing.
      ...(mcpConfig && payload.agent_id !== undefined && { permissionPromptTool: APPROVAL_PROMPT_TOOL_NAME }),
      systemPrompt: payload.system_prompt,
      cwd: payload.cwd ?? ksi.sandbox_dir,
      // Admission names the agent of every request made by or for one: it never loads its workspace's settings.
      ...(payload.agent_id !== undefined && { settingSources: ['user'] }),
      timeoutMs: payload.timeout !== undefined ? payload.timeout * 1000 : this.config.completionTimeoutMs,
      env: { ...cliMarkers(this.config.varDir, requestId), ...(payload.claude_config_dir !== undefined && { CLAUDE_CONFIG_DIR: payload.claude_config_dir }) },
    };
  }
}

/** What a request names in `extra_body.ksi`: its MCP config, permissions and sandbox. */
function ksiOf(payload: AsyncParams): Record<string, any> {
  return (payload.extra_body as { ksi?: Record<string, any> } | undefined)?.ksi ?? {};
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
