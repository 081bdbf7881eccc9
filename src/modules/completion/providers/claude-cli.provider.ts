import { Inject, Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { isSafeId } from '../../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../../config/config';
import { classifyFailure, type AttemptOutcome, type TurnCost } from './attempt-outcome';
import type { CompletionProvider, Turn, TurnObserver } from './completion-provider';

/** After SIGTERM, how long a process group gets before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * Runs one turn of the Claude CLI: `-p --output-format json`, the prompt on stdin (then closed), in
 * its own process group so that timeouts and cancellation stop everything it started.
 */
@Injectable()
export class ClaudeCliProvider implements CompletionProvider {
  readonly name = 'claude-cli';

  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  /**
   * Every option value is joined to its flag (`--resume=VALUE`): the CLI's parser then never reads a
   * value as an option, whatever it starts with. Each tool is its own `--allowedTools=TOOL`.
   */
  argv(request: Turn): string[] {
    const args = ['-p', '--output-format', 'json', `--model=${request.model}`];
    for (const tool of request.allowedTools ?? []) args.push(`--allowedTools=${tool}`);
    for (const tool of request.disallowedTools ?? []) args.push(`--disallowedTools=${tool}`);
    if (request.maxTurns !== undefined) args.push(`--max-turns=${request.maxTurns}`);
    args.push(request.resume ? `--resume=${request.sessionId}` : `--session-id=${request.sessionId}`);
    if (request.mcpConfig) args.push(`--mcp-config=${request.mcpConfig}`);
    if (request.systemPrompt) args.push(`--append-system-prompt=${request.systemPrompt}`);
    return args;
  }

  /** Why this request must not reach the CLI, or undefined when it may. */
  refusal(request: Turn): string | undefined {
    if (!isSafeId(request.sessionId)) return `The session to resume is not a usable session id: ${JSON.stringify(request.sessionId).slice(0, 100)}`;
    const tools = [...(request.allowedTools ?? []), ...(request.disallowedTools ?? [])];
    const optionLike = tools.find((tool) => tool.startsWith('-'));
    if (optionLike !== undefined) return `Tool names must not start with '-': ${JSON.stringify(optionLike).slice(0, 100)}`;
    return undefined;
  }

  /** Resolves with the outcome; rejects only when spawn refuses its arguments. `onSpawn` learns the process group id. */
  run(request: Turn, signal: AbortSignal, observer: TurnObserver): Promise<AttemptOutcome> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const refused = this.refusal(request);
    if (refused) return Promise.resolve({ ok: false, code: 'invalid_request', message: refused, retryable: false, durationMs: 0 });
    return new Promise((resolve) => {
      const child = spawn(this.config.claudeBin, this.argv(request), {
        cwd: request.cwd,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...request.env },
      });
      let stdout = '';
      let stderr = '';
      let stoppedFor: 'timeout' | 'cancelled' | undefined;
      const stop = (why: 'timeout' | 'cancelled') => {
        if (stoppedFor || child.pid === undefined) return;
        stoppedFor = why;
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid as number, 'SIGKILL'), KILL_GRACE_MS).unref();
      };
      const timer = setTimeout(() => stop('timeout'), request.timeoutMs);
      const onAbort = () => stop('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (outcome: AttemptOutcome) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };

      child.once('spawn', () => {
        observer.spawned(child.pid as number);
        if (signal.aborted) onAbort();
      });
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.prompt);
      child.once('error', (error: NodeJS.ErrnoException) => {
        const missing = error.code === 'ENOENT';
        finish({
          ok: false,
          code: missing ? 'cli_not_found' : 'cli_failed',
          message: missing ? `Claude CLI not found at ${this.config.claudeBin} (set CLAUDE_BIN)` : `Claude CLI could not start: ${error.message}`,
          retryable: !missing,
          durationMs: elapsed(),
        });
      });
      child.once('close', (code, exitSignal) => {
        const durationMs = elapsed();
        if (stoppedFor === 'cancelled') return finish({ ok: false, code: 'cancelled', message: 'Cancelled', retryable: false, durationMs });
        if (stoppedFor === 'timeout') {
          return finish({ ok: false, code: 'timeout', message: `Claude CLI timed out after ${request.timeoutMs} ms and was killed`, retryable: true, durationMs });
        }
        if (code !== 0) {
          const output = `${stderr}\n${stdout}`.trim();
          const failure = classifyFailure(output, { code, signal: exitSignal });
          const how = exitSignal ? `was killed by ${exitSignal}` : `exited with status ${code}`;
          return finish({ ok: false, ...failure, message: `Claude CLI ${how}${output ? `: ${output.slice(0, 500)}` : ''}`, durationMs });
        }
        const response = parseResult(stdout);
        if (!response) {
          return finish({ ok: false, code: 'invalid_output', message: `Claude CLI printed no JSON result: ${stdout.slice(0, 200) || '(nothing)'}`, retryable: true, durationMs });
        }
        if (response.session_id != null && !isSafeId(response.session_id)) {
          const printed = JSON.stringify(response.session_id).slice(0, 100);
          return finish({ ok: false, code: 'invalid_output', message: `Claude CLI printed an unusable session_id ${printed}: a session id must be 1-128 letters, digits, . _ - starting with a letter or digit`, retryable: true, durationMs });
        }
        if (response.is_error === true) {
          const text = String(response.result ?? response.subtype ?? 'error');
          const failure = classifyFailure(text, { code, signal: null });
          const retryable = response.subtype !== 'error_max_turns' && failure.code !== 'auth_error' && failure.code !== 'invalid_request';
          return finish({ ok: false, code: failure.code === 'cli_failed' ? 'cli_error_result' : failure.code, message: `Claude reported an error: ${text.slice(0, 500)}`, retryable, retryAt: failure.retryAt, cost: costOf(response), durationMs });
        }
        finish({ ok: true, response: { ...response, session_id: response.session_id ?? undefined }, cost: costOf(response), durationMs });
      });
    });
  }
}

/** The CLI's JSON output: one result object, or (newer versions) a list whose last entry is the result. */
function parseResult(stdout: string): (Record<string, unknown> & { session_id?: unknown }) | undefined {
  const text = stdout.trim();
  const candidates = [text, text.split('\n').pop() ?? ''];
  for (const candidate of candidates) {
    try {
      const parsed = JSON.parse(candidate) as unknown;
      const result = Array.isArray(parsed) ? parsed.findLast((item) => item?.type === 'result') : parsed;
      if (typeof result === 'object' && result !== null && !Array.isArray(result)) return result as Record<string, unknown>;
    } catch {
      // not JSON; try the next candidate
    }
  }
  return undefined;
}

/** The cost fields of a CLI result; absent counters are 0, absent totals null. */
function costOf(response: Record<string, unknown>): TurnCost {
  const usage = (typeof response.usage === 'object' && response.usage !== null ? response.usage : {}) as Record<string, unknown>;
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  const orNull = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    cost_usd: orNull(response.total_cost_usd),
    usage: {
      input_tokens: count(usage.input_tokens),
      output_tokens: count(usage.output_tokens),
      cache_read_input_tokens: count(usage.cache_read_input_tokens),
      cache_creation_input_tokens: count(usage.cache_creation_input_tokens),
    },
    num_turns: orNull(response.num_turns),
    duration_api_ms: orNull(response.duration_api_ms),
  };
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
