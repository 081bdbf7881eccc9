import { Inject, Injectable } from '@nestjs/common';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { isSafeId, LINE_TOO_LONG, LineSplitter, type Frame } from '../../../../libs/client/src';
import { DAEMON_SECRETS, KSI_CONFIG, type KsiConfig } from '../../../config/config';
import { groupAlive, signalCli } from '../cli-processes';
import type { AttemptOutcome, TurnCost } from './attempt-outcome';
import { classifyCliFailure } from './claude-cli-failure';
import { appendTail, ClaudeCliStream } from './claude-cli-stream';
import type { CompletionProvider, Turn, TurnObserver } from './completion-provider';

/** After SIGTERM, how long a process group gets before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * Runs one turn of the Claude CLI: `-p --output-format stream-json --verbose --include-partial-messages`,
 * the prompt on stdin (then closed), in its own process group so that timeouts and cancellation stop
 * everything it started. Each stdout line is read as it arrives: text, tool use and API retries become
 * progress, the `result` line is the outcome.
 */
@Injectable()
export class ClaudeCliProvider implements CompletionProvider {
  readonly name = 'claude-cli';
  /**
   * The longest stdout line kept; a longer one (the result carries the whole answer) ends the run as
   * invalid output, not retried: a retry would pay for the same turn again.
   */
  protected readonly maxLineBytes: number = 64 * 1024 * 1024;

  constructor(@Inject(KSI_CONFIG) private readonly config: KsiConfig) {}

  /**
   * Every option value is joined to its flag (`--resume=VALUE`): the CLI's parser then never reads a
   * value as an option, whatever it starts with. Each tool is its own `--allowedTools=TOOL`.
   */
  argv(request: Turn): string[] {
    const args = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', `--model=${request.model}`];
    for (const tool of request.allowedTools ?? []) args.push(`--allowedTools=${tool}`);
    for (const tool of request.disallowedTools ?? []) args.push(`--disallowedTools=${tool}`);
    if (request.maxTurns !== undefined) args.push(`--max-turns=${request.maxTurns}`);
    if (request.maxBudgetUsd !== undefined) args.push(`--max-budget-usd=${request.maxBudgetUsd}`);
    args.push(request.resume ? `--resume=${request.sessionId}` : `--session-id=${request.sessionId}`);
    if (request.mcpConfig) args.push(`--mcp-config=${request.mcpConfig}`);
    if (request.permissionPromptTool) args.push(`--permission-prompt-tool=${request.permissionPromptTool}`);
    if (request.systemPrompt) args.push(`--append-system-prompt=${request.systemPrompt}`);
    if (request.settingSources) args.push(`--setting-sources=${request.settingSources.join(',')}`);
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

  /** Resolves with the outcome; the observer learns the process group id and the progress as it arrives. */
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
        env: cliEnvironment(process.env, request.env),
      });
      const stream = new ClaudeCliStream((progress) => observer.progress(progress));
      let stderr = '';
      let stoppedFor: 'timeout' | 'cancelled' | 'overflow' | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = (why: 'timeout' | 'cancelled' | 'overflow') => {
        if (stoppedFor || child.pid === undefined) return;
        stoppedFor = why;
        signalCli(child, 'SIGTERM');
        killTimer = setTimeout(() => signalCli(child, 'SIGKILL'), KILL_GRACE_MS).unref();
      };
      const lines = new LineSplitter(this.maxLineBytes);
      const frames: Frame[] = [];
      /** Hands each complete stdout line to the stream; an over-long one stops the run. */
      const read = () => {
        for (const frame of frames.splice(0)) {
          if (frame === LINE_TOO_LONG) return stop('overflow');
          stream.line(frame);
        }
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
      child.stdout.on('data', (chunk: Buffer) => {
        if (stoppedFor === 'overflow') return;
        lines.push(chunk, frames);
        read();
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = appendTail(stderr, chunk)));
      child.stdin.on('error', () => undefined);
      child.stdin.end(request.prompt);
      child.once('error', (error: NodeJS.ErrnoException) => {
        // spawn reports a missing working folder as ENOENT too: admission checked it, so it went since.
        const folder = unusableFolder(request.cwd);
        if (folder) return finish({ ok: false, code: 'invalid_request', message: `Claude CLI not started: its working folder ${folder}`, retryable: false, durationMs: elapsed() });
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
        if (stoppedFor !== 'overflow') {
          lines.end(frames);
          read();
        }
        // A group with nobody left needs no SIGKILL, and its id may soon be another group's.
        if (killTimer && !groupAlive(child.pid as number)) clearTimeout(killTimer);
        const durationMs = elapsed();
        const result = stream.result;
        // A result line reports what the turn spent, however the run ended (an interrupted CLI prints one too).
        const spent = result && { cost: costOf(result) };
        // A CLI that answered anyway (it finished before its SIGTERM took effect, or ignored it) reports its
        // answer: whoever stopped it decides whether it counts (a daemon stopping keeps it, a cancel does not).
        // A timed-out turn that answered is kept: running it again would pay for the same turn twice.
        // A stopped CLI that printed a successful result answered, whatever its exit: the signal may
        // have come while it was exiting.
        const answered = result !== undefined && result.is_error !== true && (code === 0 || (stoppedFor !== undefined && result.subtype === 'success'));
        if (stoppedFor === 'cancelled' && !answered) return finish({ ok: false, code: 'cancelled', message: 'Cancelled', retryable: false, ...spent, durationMs });
        if (stoppedFor === 'timeout' && !answered) {
          return finish({ ok: false, code: 'timeout', message: `Claude CLI timed out after ${request.timeoutMs} ms and was killed`, retryable: true, ...spent, durationMs });
        }
        if (stoppedFor === 'overflow') {
          return finish({ ok: false, code: 'invalid_output', message: `Claude CLI printed a line longer than ${this.maxLineBytes} bytes and was stopped`, retryable: false, ...spent, durationMs });
        }
        if (!answered && (code !== 0 || result?.is_error === true)) {
          const failure = classifyCliFailure({ result, assistantError: stream.assistantError, exit: { code, signal: exitSignal }, stderr, plainStdout: stream.plainText });
          return finish({ ok: false, ...failure, ...spent, durationMs });
        }
        if (!result) {
          const printed = stream.plainText.trim().slice(0, 200) || '(nothing)';
          return finish({ ok: false, code: 'invalid_output', message: `Claude CLI printed no result line: ${printed}`, retryable: true, durationMs });
        }
        if (result.session_id != null && !isSafeId(result.session_id)) {
          const printed = JSON.stringify(result.session_id).slice(0, 100);
          return finish({ ok: false, code: 'invalid_output', message: `Claude CLI printed an unusable session_id ${printed}: a session id must be 1-128 letters, digits, . _ - starting with a letter or digit`, retryable: true, ...spent, durationMs });
        }
        finish({ ok: true, response: { ...result, session_id: (result.session_id as string | null | undefined) ?? undefined }, cost: costOf(result), durationMs });
      });
    });
  }
}

/** The daemon's environment for the CLI, without the daemon's own credentials, plus the request's markers. */
export function cliEnvironment(daemon: NodeJS.ProcessEnv, markers: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...daemon };
  for (const secret of DAEMON_SECRETS) delete inherited[secret];
  return { ...inherited, ...markers };
}

/** Why the CLI cannot run in `cwd` (the rest of a sentence naming it), or undefined when it can. */
function unusableFolder(cwd: string | undefined): string | undefined {
  if (cwd === undefined) return undefined;
  try {
    return fs.statSync(cwd).isDirectory() ? undefined : `${cwd} is not a folder`;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${cwd} does not exist` : `${cwd} cannot be used: ${(error as Error).message}`;
  }
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
