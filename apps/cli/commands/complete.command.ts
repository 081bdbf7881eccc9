import { Command, Option } from 'nest-commander';
import { createInterface } from 'node:readline/promises';
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import { isErrorResult, KsiClient, KsiConnectionError, KsiEventError, KsiTimeoutError, type CompletionRecord, type KsiPushMap, type PushOf } from '../../../libs/client/src';
import { CliError, EXIT, orFail } from '../cli-error';
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
type AsyncRequest = { request_id: string; prompt: string } & Record<string, unknown>;
/** Where a request is, as the daemon answered for it again or another node read its record; how it ended once it did. */
type Reached = { status: CompletionRecord['status']; ending?: Ending };
/** The other nodes of the daemon's cluster when the request was accepted: whether there were any, and those on this host (their sockets). */
type Cluster = { clustered: boolean; onThisHost: { nodeId: string; socket: string }[] };

/** How long `--wait` keeps asking for its request after the daemon went away (a restart), and how often. */
const RECONNECT_FOR_MS = 60_000;
const RECONNECT_EVERY_MS = 250;
/** How long `--wait` hears nothing before it reads the request's record. */
const LOOK_AFTER_MS = 30_000;
/** How often, while the daemon is away, `--wait` reads the request's record on another node of its cluster. */
const LOOK_ELSEWHERE_EVERY_MS = 1_000;

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
    // Named here, so that after losing the daemon (a restart) the request can be asked for again without queuing it twice.
    const request = {
      request_id: randomUUID(),
      prompt,
      ...(options.model && { model: options.model }),
      ...(options.session && { session_id: options.session }),
      ...(options.timeout && { timeout: options.timeout }),
    };
    try {
      // A daemon that is not running is said at once; one lost after this may have queued the request.
      await client.connect();
      const finished = options.wait ? this.waitForEnd(client, request) : undefined;
      const { status, resent } = await this.submit(client, request);
      if (!finished) {
        process.stdout.write(`${request.request_id}\n`);
        return;
      }
      const display = new WaitDisplay(request.request_id);
      const interrupted = new Promise<'interrupted'>((resolve) => process.once('SIGINT', () => resolve('interrupted')));
      const outcome = await Promise.race([finished.wait(display, status, resent), interrupted]).finally(() => display.stop());
      if (outcome === 'interrupted') {
        // Nothing more is printed over the question.
        finished.stop();
        return await this.interrupted(client, request.request_id);
      }
      const { end, printed, streaming } = outcome;
      if (end.status === 'completed') {
        process.stdout.write(`${rest(end.text, printed, streaming)}\n`);
        process.stderr.write(dim(`session ${end.sessionId}\n`));
        return;
      }
      throw new CliError(EXIT.daemonError, end.status === 'cancelled' ? 'Cancelled' : `Error (${end.code}): ${end.error}`);
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
   * arrives and the rest of the progress on stderr; resolves on the request's end, with the text of
   * the last attempt printed so far and whether it was still streaming. When the daemon goes away (a
   * restart), asks for the request again until it is back, or until another node of its cluster says
   * how the request ended (its own was stopped); the answer is then printed at the end.
   */
  private waitForEnd(client: KsiClient, request: AsyncRequest): { wait: (display: WaitDisplay, acceptedStatus: CompletionRecord['status'], resent: boolean) => Promise<{ end: Ending; printed: string; streaming: boolean }>; stop: () => void } {
    const seen: CompletionPush[] = [];
    let wake: () => void = () => undefined;
    const unsubscribes = COMPLETION_PUSHES.map((event) =>
      client.subscribe(event, (line) => {
        seen.push(line);
        wake();
      }),
    );
    client.onClose(() => wake());
    const stop = () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    const wait = async (display: WaitDisplay, acceptedStatus: CompletionRecord['status'], resent: boolean) => {
      // Asked while the daemon answers: should it go away for good, another node can still say how the request ended.
      const cluster = clusterOf(client);
      let printed = '';
      // Off once the connection was lost: deltas pushed meanwhile are gone, so the rest comes with the end.
      let streaming = !resent;
      // Sent again after a lost connection, the request may have ended meanwhile: its end was pushed to that connection.
      if (!underway(acceptedStatus)) {
        const ending = await this.endingFromRecord(client, request.request_id).catch(unlessAway);
        if (ending) return { end: ending, printed, streaming };
      }
      for (;;) {
        for (const entry of seen.splice(0)) {
          if (entry.data.request_id !== request.request_id) continue;
          if (entry.event !== 'completion:progress') return { end: endingOf(entry), printed, streaming };
          if (entry.data.status === 'streaming') {
            if (!streaming) continue;
            display.stop();
            process.stdout.write(entry.data.delta);
            printed += entry.data.delta;
            continue;
          }
          // The next attempt starts over: its text (or, if it streams none, the result) is the answer.
          if (entry.data.status === 'retry_scheduled' && printed !== '') {
            process.stdout.write('\n');
            process.stderr.write(dim(`the text above is from attempt ${entry.data.attempt}, which failed: it is not the answer\n`));
            printed = '';
          }
          display.update(progressLine(entry.data));
        }
        if (!client.connected) {
          streaming = false;
          display.update('the daemon went away; reaching it again');
          const again = await this.askAgain(client, request, await cluster, display);
          const ending = again.ending ?? (underway(again.status) ? undefined : await this.endingFromRecord(client, request.request_id).catch(unlessAway));
          if (ending) return { end: ending, printed, streaming };
          continue;
        }
        let quiet: NodeJS.Timeout | undefined;
        const heard = await new Promise<boolean>((resolve) => {
          wake = () => resolve(true);
          quiet = setTimeout(() => resolve(false), LOOK_AFTER_MS);
        }).finally(() => clearTimeout(quiet));
        // Long silence: the end may have gone where this connection cannot hear it (another node), so the record is read.
        if (!heard && client.connected) {
          const ending = await this.endingFromRecord(client, request.request_id).catch(() => undefined);
          if (ending) return { end: ending, printed, streaming: false };
        }
      }
    };
    return { wait, stop };
  }

  /**
   * Queues the request. When the connection is lost before the answer (the daemon died or restarted
   * meanwhile), the request may or may not have been queued: it is sent again under its id, which
   * queues it at most once. A refusal (`shutting_down` among them) is an answer, and is reported.
   */
  private async submit(client: KsiClient, request: AsyncRequest): Promise<{ status: CompletionRecord['status']; resent: boolean }> {
    try {
      return { status: orFail(await client.sendSingle('completion:async', request)).status, resent: false };
    } catch (error) {
      if (!(error instanceof KsiConnectionError || error instanceof KsiTimeoutError)) throw error;
      process.stderr.write(dim(`the daemon went away before answering; asking for request ${request.request_id} again\n`));
      const { status } = await this.askAgain(client, request);
      return { status, resent: true };
    }
  }

  /**
   * Sends the request again (the daemon answers with the one it has) until the daemon is back, for
   * RECONNECT_FOR_MS at most. Meanwhile, in a cluster, reads the request's record on the other nodes
   * of this host (their sockets are reachable from here): a request the others ran after its node
   * stopped ends with that record, and one they still run is waited for as long as a node answers for it.
   */
  private async askAgain(client: KsiClient, request: AsyncRequest, cluster?: Cluster, display?: WaitDisplay): Promise<Reached> {
    let deadline = Date.now() + RECONNECT_FOR_MS;
    let lookElsewhereAt = Date.now();
    let followed = '';
    for (;;) {
      try {
        return { status: orFail(await client.sendSingle('completion:async', request)).status };
      } catch (error) {
        if (!isAway(error)) throw error;
      }
      if (cluster && cluster.onThisHost.length > 0 && Date.now() >= lookElsewhereAt) {
        lookElsewhereAt = Date.now() + LOOK_ELSEWHERE_EVERY_MS;
        const elsewhere = await recordElsewhere(cluster, request.request_id);
        if (elsewhere) {
          const ending = endingOfRecord(elsewhere.record);
          if (ending) return { status: elsewhere.record.status, ending };
          deadline = Date.now() + RECONNECT_FOR_MS;
          const following = `the daemon went away; following the request on node ${elsewhere.nodeId} (${elsewhere.record.status})`;
          if (following !== followed) display?.update(following);
          followed = following;
        }
      }
      if (Date.now() > deadline) throw new CliError(EXIT.unreachable, gaveUp(request.request_id, cluster));
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_EVERY_MS));
    }
  }

  /** How a request that ended while the daemon was out of reach ended, from its record; undefined while it runs. */
  private async endingFromRecord(client: KsiClient, requestId: string): Promise<Ending | undefined> {
    // A failed request's record has an error too: only a reply without the request is a failure to read it.
    const record = await client.sendSingle('completion:status', { request_id: requestId });
    if (!('request_id' in record)) throw new CliError(EXIT.daemonError, `completion:status did not describe ${requestId}: ${isErrorResult(record) ? record.error : 'no record'}`);
    return endingOfRecord(record);
  }
}

const underway = (status: CompletionRecord['status']) => status === 'queued' || status === 'processing';

/** The other live nodes of the daemon's cluster; undefined when the daemon did not say (it went away first). */
async function clusterOf(client: KsiClient): Promise<Cluster | undefined> {
  const answer = await client.sendSingle('cluster:nodes', { include_dead: false }).catch(() => undefined);
  if (!answer || isErrorResult(answer)) return undefined;
  const others = answer.nodes.filter((node) => !node.this_node);
  return { clustered: others.length > 0, onThisHost: others.filter((node) => node.host === os.hostname()).map((node) => ({ nodeId: node.node_id, socket: node.socket })) };
}

/** The request's record as the first other node of this host that answers has it; undefined when none does. */
async function recordElsewhere({ onThisHost }: Cluster, requestId: string): Promise<{ nodeId: string; record: CompletionRecord } | undefined> {
  for (const { nodeId, socket } of onThisHost) {
    const other = new KsiClient({ socketPath: socket, timeoutMs: 2_000 });
    try {
      const record = await other.sendSingle('completion:status', { request_id: requestId });
      if ('request_id' in record) return { nodeId, record };
    } catch {
      // Away too: the next node may answer.
    } finally {
      await other.close();
    }
  }
  return undefined;
}

/** What to do once nothing answers for the request: any node of a cluster can show it. */
function gaveUp(requestId: string, cluster?: Cluster): string {
  const status = `ksi send completion:status --request_id ${requestId}`;
  if (!cluster?.clustered) return `The daemon did not answer again within ${RECONNECT_FOR_MS / 1000} s (stopped, still starting, or hung); once it answers, ${status} shows the request`;
  const others = cluster.onThisHost.length > 0 ? ', nor did the other nodes of its cluster on this host' : '';
  return `The daemon did not answer again within ${RECONNECT_FOR_MS / 1000} s (stopped, still starting, or hung)${others}; another node of its cluster may still run the request: ${status} on any node shows it (ksi nodes lists the nodes)`;
}

/** A failure that says the daemon is out of reach for now (stopped, restarting, hung), not that the request is wrong. */
function isAway(error: unknown): boolean {
  return error instanceof KsiConnectionError || error instanceof KsiTimeoutError || (error instanceof KsiEventError && error.code === 'shutting_down');
}

/** Nothing, when the daemon is out of reach: the caller asks again once it is back. */
function unlessAway(error: unknown): undefined {
  if (isAway(error)) return undefined;
  throw error;
}

/**
 * What is left to print of the answer `text` after `printed` went out: nothing while the text still
 * streamed to the end; else the rest when the printed text begins it (the attempt went on unseen, or
 * a new attempt after a restart said the same), or the whole answer after a note.
 */
function rest(text: string, printed: string, streaming: boolean): string {
  if (streaming && printed !== '') return '';
  if (text.startsWith(printed)) return text.slice(printed.length);
  process.stderr.write(dim('\nthe text above is from an attempt the daemon did not finish: it is not the answer\n'));
  return `\n${text}`;
}

/** How a request ended, from its last push or, when that went to a connection that was lost, from its record. */
type Ending = { status: 'completed'; text: string; sessionId: string | null } | { status: 'failed'; code: string; error: string } | { status: 'cancelled' };

function endingOf(end: Exclude<CompletionPush, { event: 'completion:progress' }>): Ending {
  if (end.event === 'completion:result') return { status: 'completed', text: end.data.result.response.result ?? '', sessionId: end.data.session_id };
  if (end.event === 'completion:cancelled') return { status: 'cancelled' };
  return { status: 'failed', code: end.data.code, error: end.data.error };
}

/** How a request ended, from its record; undefined while it is queued or runs. */
function endingOfRecord(record: CompletionRecord): Ending | undefined {
  if (underway(record.status)) return undefined;
  if (record.status === 'completed') return { status: 'completed', text: record.result?.response.result ?? '', sessionId: record.result_session_id };
  if (record.status === 'cancelled') return { status: 'cancelled' };
  return { status: 'failed', code: record.error_code ?? 'internal_error', error: record.error ?? 'failed' };
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
