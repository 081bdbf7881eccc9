import { Command, Option } from 'nest-commander';
import { createInterface } from 'node:readline/promises';
import { isErrorResult, KsiClient, type KsiPushMap, type PushOf } from '../../../libs/client/src';
import { CliError, EXIT } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { dim } from '../output';
import { WaitDisplay } from '../wait-display';

interface CompleteOptions extends SocketOptions {
  model?: string;
  session?: string;
  wait?: boolean;
  timeout?: number;
}

/** The pushes that tell how a request goes, in the order they arrive. */
const COMPLETION_PUSHES = ['completion:progress', 'completion:result', 'completion:error', 'completion:cancelled'] as const;
type CompletionPush = PushOf<(typeof COMPLETION_PUSHES)[number]>;
type ProgressLine = Exclude<KsiPushMap['completion:progress'], { status: 'streaming' }>;

@Command({ name: 'complete', arguments: '<prompt>', description: 'Queue a Claude turn; with --wait, print its result (exit 0) or error (exit 1)' })
export class CompleteCommand extends KsiCommand<CompleteOptions> {
  @Option({ flags: '-m, --model <model>', description: "claude-cli/<any model the Claude CLI accepts: sonnet, opus, 'sonnet[1m]', claude-sonnet-4-5…>, the bare name, or anthropic/<model> (default: the daemon's KSI_DEFAULT_MODEL)" })
  parseModel(value: string): string {
    return value;
  }

  @Option({ flags: '--session <id>', description: 'continue this session (its newest turn is resumed)' })
  parseSession(value: string): string {
    return value;
  }

  @Option({ flags: '-w, --wait', description: 'wait for the result and print it' })
  parseWait(): boolean {
    return true;
  }

  @Option({ flags: '--timeout <seconds>', description: 'per attempt' })
  parseTimeout(value: string): number {
    return Number(value);
  }

  protected async execute([prompt]: string[], options: CompleteOptions): Promise<void> {
    const client = new KsiClient({ socketPath: this.socketPath(options) });
    try {
      const finished = options.wait ? this.waitForEnd(client) : undefined;
      const accepted = await client.sendSingle('completion:async', {
        prompt,
        ...(options.model && { model: options.model }),
        ...(options.session && { session_id: options.session }),
        ...(options.timeout && { timeout: options.timeout }),
      });
      if (!finished) {
        process.stdout.write(`${accepted.request_id}\n`);
        return;
      }
      const display = new WaitDisplay(accepted.request_id);
      const interrupted = new Promise<'interrupted'>((resolve) => process.once('SIGINT', () => resolve('interrupted')));
      const outcome = await Promise.race([finished.wait(accepted.request_id, display), interrupted]).finally(() => display.stop());
      if (outcome === 'interrupted') {
        // Nothing more is printed over the question.
        finished.stop();
        return await this.interrupted(client, accepted.request_id);
      }
      const { end, streamed } = outcome;
      if (end.event === 'completion:result') {
        // The streamed text already is the answer; without any, the result is.
        process.stdout.write(streamed ? '\n' : `${end.data.result.response.result ?? ''}\n`);
        process.stderr.write(dim(`session ${end.data.session_id}\n`));
        return;
      }
      throw new CliError(EXIT.daemonError, end.event === 'completion:cancelled' ? 'Cancelled' : `Error (${end.data.code}): ${end.data.error}`);
    } finally {
      await client.close();
    }
  }

  /**
   * Ctrl-C while waiting: on a terminal, asks whether to cancel the request too; otherwise (or on a
   * no) leaves it queued and says how to follow or cancel it. Exits 130, as an interrupted command does.
   */
  private async interrupted(client: KsiClient, requestId: string): Promise<void> {
    process.exitCode = 130;
    const leftRunning = `Left ${requestId} running: ksi send completion:status --request_id ${requestId} shows it; ksi send completion:cancel --request_id ${requestId} cancels it\n`;
    if (!process.stdin.isTTY || !process.stderr.isTTY) return void process.stderr.write(`\n${leftRunning}`);
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await new Promise<string>((resolve) => {
      prompt.once('SIGINT', () => resolve('n'));
      prompt.question(`\nCancel request ${requestId} too? [y/N] `).then(resolve, () => resolve('n'));
    }).finally(() => prompt.close());
    if (!/^y(es)?$/i.test(answer.trim())) return void process.stderr.write(leftRunning);
    // An application error ({error, code}: it finished meanwhile) comes back in the result's place.
    const cancelled: unknown = await client.sendSingle('completion:cancel', { request_id: requestId }).catch((error: Error) => ({ error: error.message }));
    process.stderr.write(isErrorResult(cancelled) ? `Not cancelled: ${cancelled.error}\n` : `Cancelled ${requestId}\n`);
  }

  /**
   * Subscribes before sending, so no pushed line can be missed; prints streamed text on stdout as it
   * arrives and the rest of the progress on stderr; resolves on the request's last event, with whether
   * the last attempt streamed text.
   */
  private waitForEnd(client: KsiClient): {
    wait: (requestId: string, display: WaitDisplay) => Promise<{ end: Exclude<CompletionPush, { event: 'completion:progress' }>; streamed: boolean }>;
    stop: () => void;
  } {
    const seen: CompletionPush[] = [];
    let wake: () => void = () => undefined;
    const unsubscribes = COMPLETION_PUSHES.map((event) =>
      client.subscribe(event, (line) => {
        seen.push(line);
        wake();
      }),
    );
    const stop = () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    const wait = async (requestId: string, display: WaitDisplay) => {
      let streamed = false;
      for (;;) {
        for (const entry of seen.splice(0)) {
          if (entry.data.request_id !== requestId) continue;
          if (entry.event !== 'completion:progress') return { end: entry, streamed };
          if (entry.data.status === 'streaming') {
            display.stop();
            process.stdout.write(entry.data.delta);
            streamed = true;
            continue;
          }
          // The next attempt starts over: its text (or, if it streams none, the result) is the answer.
          if (entry.data.status === 'retry_scheduled' && streamed) {
            process.stdout.write('\n');
            process.stderr.write(dim(`the text above is from attempt ${entry.data.attempt}, which failed: it is not the answer\n`));
            streamed = false;
          }
          display.update(progressLine(entry.data));
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          client.onClose(resolve);
        });
        if (!client.connected) throw new CliError(EXIT.unreachable, 'The connection to the daemon closed before the result arrived');
      }
    };
    return { wait, stop };
  }
}

/** One progress push other than streamed text, as a line for stderr. */
function progressLine(progress: ProgressLine): string {
  switch (progress.status) {
    case 'retry_scheduled':
      return `attempt ${progress.attempt} failed (${progress.error}); retrying at ${new Date(progress.next_attempt_at * 1000).toISOString()}`;
    case 'tool_use':
      return `using ${progress.tool}`;
    case 'api_retry':
      return `the Claude API did not answer (${progress.error ?? 'error'}); the CLI retries (${progress.api_attempt}/${progress.max_retries ?? '?'}) in ${(progress.retry_delay_ms / 1000).toFixed(1)} s`;
    case 'calling_llm':
      return `calling Claude (attempt ${progress.attempt})`;
    default:
      // A stage this CLI does not know yet (a newer daemon): shown by name rather than as "undefined".
      return (progress as { status: string }).status;
  }
}
