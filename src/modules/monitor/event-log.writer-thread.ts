import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { WriteLock } from '../../database/write-lock';
import { DAEMON_LOG } from '../../logging/logger';
import type { WriterOptions, WriterReply, WriterRequest } from './event-log.protocol';
import { RestartBackoff } from './restart-backoff';

/** A writer that died is started again after 100 ms, then twice as long after each further failure. */
const WRITER_RESTART_INITIAL_MS = 100;
const WRITER_RESTART_MAX_MS = 30_000;
/** The compiled writer thread; it runs compiled code only (the daemon runs from dist/). */
const WRITER_FILE = path.join(__dirname, 'event-log.writer.js');

type WriterCall = { [Op in WriterRequest['op']]: Omit<Extract<WriterRequest, { op: Op }>, 'id'> }[WriterRequest['op']];

/**
 * The daemon's side of the event log's writer thread (event-log.writer.ts): started on first use,
 * asked in order, each reply matched to its request. If the thread dies, what it was asked fails and
 * the next call starts another.
 */
@Injectable()
export class EventLogWriterThread implements OnApplicationShutdown {
  private writer?: Worker;
  private readonly waiting = new Map<number, { resolve: (changes: number) => void; reject: (error: Error) => void }>();
  private lastRequest = 0;
  /** Settles when the writer has handled everything sent so far (it works in order). */
  private lastSent: Promise<unknown> = Promise.resolve();
  private readonly restarts = new RestartBackoff(WRITER_RESTART_INITIAL_MS, WRITER_RESTART_MAX_MS);
  /** Set once the writer closed for good. */
  private closedForGood = false;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly lock: WriteLock,
  ) {}

  get closed(): boolean {
    return this.closedForGood;
  }

  /** How long to hold batches back while a failed writer waits to be restarted; 0 when it runs or may start. */
  restartWaitMs(): number {
    return this.writer ? 0 : this.restarts.waitMs(this.clock.now());
  }

  /** Settles once everything sent so far was handled. */
  handledAll(): Promise<unknown> {
    return this.lastSent;
  }

  /** Resolves with the rows the writer changed, once its transaction committed. */
  call(request: WriterCall): Promise<number> {
    if (this.closedForGood) return Promise.reject(new Error('the event log is closed: the daemon is stopping'));
    const writer = (this.writer ??= this.start());
    const id = ++this.lastRequest;
    const reply = new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      writer.postMessage({ ...request, id } satisfies WriterRequest);
    });
    this.lastSent = reply.catch(() => undefined);
    return reply;
  }

  /** Closes the writer's connection and ends the thread; later calls fail. */
  async close(): Promise<void> {
    const writer = this.writer;
    const closing = writer && this.call({ op: 'close' });
    this.closedForGood = true;
    if (!writer || !closing) return;
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await closing.catch(() => writer.terminate());
    await exited;
  }

  onApplicationShutdown(): void {
    void this.writer?.terminate();
  }

  private start(): Worker {
    const options: WriterOptions = { dbPath: this.config.dbPath, lock: this.lock.buffer };
    // A small young generation: the writer's garbage is a batch at a time (V8's default is 16 MB).
    const writer = new Worker(WRITER_FILE, { workerData: options, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
    writer.on('message', (reply: WriterReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else {
        this.restarts.succeeded();
        waiting?.resolve(reply.changes);
      }
    });
    writer.on('error', (error) => this.log.error({ err: error.stack }, 'event log writer failed'));
    writer.on('exit', (code) => {
      if (this.writer === writer) this.writer = undefined;
      if (!this.closedForGood) this.restarts.failed(this.clock.now());
      // A writer that died inside a transaction never released the lock; this thread holds it only synchronously.
      this.lock.releaseAbandoned();
      for (const waiting of this.waiting.values()) waiting.reject(new Error(`the event log writer stopped (exit code ${code})`));
      this.waiting.clear();
    });
    return writer;
  }
}
