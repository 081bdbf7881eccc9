import type Anthropic from '@anthropic-ai/sdk';
import type * as AnthropicSdk from '@anthropic-ai/sdk';
import { Inject, Injectable } from '@nestjs/common';
import { KSI_CONFIG, type KsiConfig } from '../../../config/config';
import { ProviderMessagesRepository, type StoredMessage } from '../provider-messages.repository';
import { classifyApiError } from './anthropic-failure';
import { costUsd, mergeUsage, turnUsage, type ApiUsage } from './anthropic-cost';
import type { AttemptOutcome, TurnCost } from './attempt-outcome';
import type { CompletionProvider, Turn, TurnObserver } from './completion-provider';

/** Options of a turn that only the Claude CLI can honour: the Messages API call runs without them, and the result lists them. */
const CLI_ONLY_OPTIONS = [
  ['allowedTools', 'allowed_tools'],
  ['disallowedTools', 'disallowed_tools'],
  ['mcpConfig', 'mcp_config'],
  ['cwd', 'cwd'],
] as const satisfies readonly (readonly [keyof Turn, string])[];

/** What one streamed answer said, gathered event by event. */
interface StreamedAnswer {
  model?: string;
  text: string;
  usage: ApiUsage;
  stopReason: string | null;
  finished: boolean;
}

/**
 * Runs one turn on the Anthropic Messages API through the official SDK, streamed: text deltas and
 * tool use become progress as they arrive. The API keeps no conversation, so this provider does: a
 * session's messages are stored (ProviderMessagesRepository) and sent again on each resume. The
 * SDK never retries (`maxRetries: 0`): the completion queue does, so every retry is seen and counted.
 */
@Injectable()
export class AnthropicProvider implements CompletionProvider {
  readonly name = 'anthropic';
  /** The SDK and its client, loaded by the first turn: loading it took a quarter of the daemon's start (CPU), and most daemons never call the API. */
  private connection?: { sdk: typeof AnthropicSdk; client: Anthropic };

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly messages: ProviderMessagesRepository,
  ) {}

  private connect(apiKey: string): { sdk: typeof AnthropicSdk; client: Anthropic } {
    if (!this.connection) {
      // require, not import(): the daemon is CommonJS, and import() would load the SDK's ESM build, a second copy with its own error classes.
      const sdk = require('@anthropic-ai/sdk') as typeof AnthropicSdk;
      this.connection = { sdk, client: new sdk.Anthropic({ apiKey, baseURL: this.config.anthropic.baseUrl, maxRetries: 0 }) };
    }
    return this.connection;
  }

  async run(turn: Turn, signal: AbortSignal, observer: TurnObserver): Promise<AttemptOutcome> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const { apiKey } = this.config.anthropic;
    if (!apiKey) {
      const message = 'Neither KSI_ANTHROPIC_API_KEY nor ANTHROPIC_API_KEY is set in the daemon’s environment: start the daemon from a shell where one is set to use anthropic/<model> models';
      return { ok: false, code: 'auth_error', message, retryable: false, durationMs: 0 };
    }
    const prompt: StoredMessage = { role: 'user', content: turn.prompt };
    const history = turn.resume ? await this.messages.of(turn.sessionId) : [];
    // As with the CLI, continuing a session nobody has is an error, not a silent new conversation.
    if (turn.resume && history.length === 0) {
      return { ok: false, code: 'session_not_found', message: `No conversation found with session ID: ${turn.sessionId} (the Anthropic provider continues only sessions it answered)`, retryable: false, durationMs: 0 };
    }
    const messages = [...history, prompt] as Anthropic.MessageParam[];
    const { sdk, client } = this.connect(apiKey);

    const stop = new AbortController();
    let stoppedFor: 'timeout' | 'cancelled' | undefined;
    const halt = (why: 'timeout' | 'cancelled') => {
      stoppedFor ??= why;
      stop.abort();
    };
    const timer = setTimeout(() => halt('timeout'), turn.timeoutMs);
    const onAbort = () => halt('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    const answer: StreamedAnswer = { text: '', usage: {}, stopReason: null, finished: false };
    const apiStarted = Date.now();
    let failure: unknown;
    try {
      const stream = await client.messages.create(
        { model: turn.model, max_tokens: this.config.anthropic.maxTokens, messages, ...(turn.systemPrompt && { system: turn.systemPrompt }), stream: true },
        { signal: stop.signal, timeout: turn.timeoutMs },
      );
      for await (const event of stream) this.take(event, answer, observer);
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    const apiMs = Date.now() - apiStarted;
    const model = answer.model ?? turn.model;
    const cost: TurnCost = { cost_usd: costUsd(answer.usage, model, this.config.anthropic.prices), usage: turnUsage(answer.usage), num_turns: 1, duration_api_ms: apiMs };
    const spent = answer.model !== undefined ? { cost } : {};

    // The SDK ends a stream quietly when its signal aborts, so why it stopped is known only here.
    if (stoppedFor === 'cancelled' || signal.aborted) return { ok: false, code: 'cancelled', message: 'Cancelled', retryable: false, ...spent, durationMs: elapsed() };
    if (stoppedFor === 'timeout' || failure instanceof sdk.APIConnectionTimeoutError) {
      return { ok: false, code: 'timeout', message: `The Anthropic API did not finish within ${turn.timeoutMs} ms; the request was stopped`, retryable: true, ...spent, durationMs: elapsed() };
    }
    if (failure !== undefined) return { ok: false, ...classifyApiError(sdk, failure, turn.model, Date.now()), ...spent, durationMs: elapsed() };
    if (!answer.finished) {
      return { ok: false, code: 'api_unreachable', message: 'The Anthropic API’s stream ended before message_stop', retryable: true, ...spent, durationMs: elapsed() };
    }

    // A reply without text is not kept: an empty assistant message would make the next turn's request invalid.
    if (answer.text !== '') await this.messages.append(turn.sessionId, turn.requestId, [prompt, { role: 'assistant', content: answer.text }], Date.now());
    const ignored = CLI_ONLY_OPTIONS.filter(([option]) => isSet(turn[option])).map(([, param]) => param);
    const response = {
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: answer.text,
      session_id: turn.sessionId,
      total_cost_usd: cost.cost_usd,
      usage: cost.usage,
      num_turns: 1,
      duration_ms: elapsed(),
      duration_api_ms: apiMs,
      model,
      stop_reason: answer.stopReason,
      ...(ignored.length > 0 && { ignored_options: ignored }),
    };
    return { ok: true, response, cost, durationMs: elapsed() };
  }

  /** One server-sent event: text deltas and tool use are reported at once; usage and the stop reason are kept. */
  private take(event: Anthropic.RawMessageStreamEvent, answer: StreamedAnswer, observer: TurnObserver): void {
    switch (event.type) {
      case 'message_start':
        answer.model = event.message.model;
        answer.usage = mergeUsage(answer.usage, event.message.usage as ApiUsage);
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use' || block.type === 'server_tool_use') observer.progress({ status: 'tool_use', tool: block.name, tool_use_id: block.id });
        if (block.type === 'text' && block.text !== '') this.addText(block.text, answer, observer);
        break;
      }
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') this.addText(event.delta.text, answer, observer);
        break;
      case 'message_delta':
        answer.usage = mergeUsage(answer.usage, event.usage as ApiUsage);
        answer.stopReason = event.delta.stop_reason ?? answer.stopReason;
        break;
      case 'message_stop':
        answer.finished = true;
        break;
    }
  }

  private addText(delta: string, answer: StreamedAnswer, observer: TurnObserver): void {
    answer.text += delta;
    observer.progress({ status: 'streaming', delta });
  }
}

function isSet(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== '';
}
