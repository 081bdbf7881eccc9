import { Command, Option } from 'nest-commander';
import { KsiClient, type StandardResponse } from '../../../libs/client/src';
import { CliError, EXIT } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { dim } from '../output';

interface CompleteOptions extends SocketOptions {
  model?: string;
  session?: string;
  wait?: boolean;
  timeout?: number;
}

interface Pushed {
  request_id: string;
  status?: string;
  attempt?: number;
  error?: string;
  code?: string;
  next_attempt_at?: number;
  session_id?: string | null;
  result?: StandardResponse;
}

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
      process.stderr.write(dim(`queued ${accepted.request_id}\n`));
      const end = await finished(accepted.request_id);
      if (end.event === 'completion:result') {
        process.stdout.write(`${String(end.data.result?.response.result ?? '')}\n`);
        process.stderr.write(dim(`session ${end.data.session_id}\n`));
        return;
      }
      throw new CliError(EXIT.daemonError, end.event === 'completion:cancelled' ? 'Cancelled' : `Error (${end.data.code}): ${end.data.error}`);
    } finally {
      await client.close();
    }
  }

  /** Subscribes before sending, so no pushed line can be missed; resolves on the request's last event. */
  private waitForEnd(client: KsiClient): (requestId: string) => Promise<{ event: string; data: Pushed }> {
    const seen: { event: string; data: Pushed }[] = [];
    let wake: () => void = () => undefined;
    client.subscribe('completion:*', (line) => {
      seen.push({ event: line.event, data: line.data as Pushed });
      wake();
    });
    return async (requestId) => {
      for (;;) {
        for (const entry of seen.splice(0)) {
          if (entry.data.request_id !== requestId) continue;
          if (entry.event === 'completion:progress') {
            const { status, attempt, error, next_attempt_at } = entry.data;
            const detail = status === 'retry_scheduled' ? `attempt ${attempt} failed (${error}); retrying at ${new Date((next_attempt_at ?? 0) * 1000).toISOString()}` : `calling Claude (attempt ${attempt})`;
            process.stderr.write(dim(`${detail}\n`));
          } else return entry;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          client.onClose(resolve);
        });
        if (!client.connected) throw new CliError(EXIT.unreachable, 'The connection to the daemon closed before the result arrived');
      }
    };
  }
}
