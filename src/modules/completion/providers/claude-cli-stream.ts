import type { TurnProgress } from './completion-provider';

type Json = Record<string, unknown>;

/** How much of stderr and of non-JSON stdout is kept for the error message. */
const TAIL_CHARS = 8_192;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the Claude CLI's output one line at a time: `--output-format stream-json --verbose` lines
 * (with `--include-partial-messages`), or the single object or array `--output-format json` prints.
 * Reports progress as it arrives and keeps what the end of the run needs: the result line, the
 * error of a synthetic assistant message, and the text that was not JSON.
 */
export class ClaudeCliStream {
  result?: Json;
  assistantError?: string;
  plainText = '';
  /** Messages whose text already went out as partial deltas, so their final text is not sent twice. */
  private readonly streamedMessages = new Set<string>();
  private currentMessage?: string;

  constructor(private readonly progress: (progress: TurnProgress) => void) {}

  line(text: string): void {
    if (!text.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.plainText = `${this.plainText}${text}\n`.slice(-TAIL_CHARS);
      return;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) if (isObject(message)) this.message(message);
  }

  private message(message: Json): void {
    switch (message.type) {
      case 'result':
        this.result = message;
        return;
      case 'stream_event':
        if (isObject(message.event)) this.partial(message.event);
        return;
      case 'assistant':
        if (isObject(message.message)) this.assistant(message.message, message.error);
        return;
      case 'system':
        if (message.subtype === 'api_retry') this.apiRetry(message);
        return;
    }
  }

  /** A partial message event: the text deltas are streamed as they come. */
  private partial(event: Json): void {
    if (event.type === 'message_start' && isObject(event.message) && typeof event.message.id === 'string') this.currentMessage = event.message.id;
    if (event.type !== 'content_block_delta' || !isObject(event.delta) || event.delta.type !== 'text_delta') return;
    const delta = event.delta.text;
    if (typeof delta !== 'string' || delta === '') return;
    if (this.currentMessage !== undefined) this.streamedMessages.add(this.currentMessage);
    this.progress({ status: 'streaming', delta });
  }

  /**
   * A complete assistant message: its tool uses, and its text unless partial deltas already carried
   * it. A synthetic message with `error` holds the CLI's error sentence, which the result repeats.
   */
  private assistant(message: Json, error: unknown): void {
    if (typeof error === 'string') {
      this.assistantError = error;
      return;
    }
    const streamed = typeof message.id === 'string' && this.streamedMessages.has(message.id);
    for (const block of Array.isArray(message.content) ? message.content : []) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && !streamed && typeof block.text === 'string' && block.text !== '') this.progress({ status: 'streaming', delta: block.text });
      if (block.type === 'tool_use' && typeof block.name === 'string') {
        this.progress({ status: 'tool_use', tool: block.name, ...(typeof block.id === 'string' && { tool_use_id: block.id }) });
      }
    }
  }

  private apiRetry(message: Json): void {
    const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
    this.progress({
      status: 'api_retry',
      api_attempt: number(message.attempt) ?? 0,
      ...(number(message.max_retries) !== undefined && { max_retries: number(message.max_retries) }),
      retry_delay_ms: Math.round(number(message.retry_delay_ms) ?? 0),
      ...(typeof message.error === 'string' && { error: message.error }),
      error_status: number(message.error_status) ?? null,
    });
  }
}

/** Keeps the last `TAIL_CHARS` of a stream. */
export function appendTail(tail: string, chunk: string): string {
  return (tail + chunk).slice(-TAIL_CHARS);
}
