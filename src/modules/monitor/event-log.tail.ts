import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import type { EventRecord } from '../../events/event-tap';
import { DAEMON_LOG } from '../../logging/logger';
import { NODE_META_INDEX } from './event-log.entity';
import { EventLogRepository, type TailedRow } from './event-log.repository';

/** The backstop for signals lost while the LISTEN connection was down. */
const POLL_MS = 1_000;
const ROWS_PER_READ = 500;
/** How long a skipped id is looked for: a node's batch commits within this, or was rolled back. */
const GAP_WAIT_MS = 10_000;
/** Skipped ids remembered at most: a bound on memory when ids are skipped in bulk (rolled-back batches). */
const MAX_GAPS = 10_000;

/**
 * Other nodes' events, for this node's monitors: the shared event log read by id from where it was
 * when the first monitor subscribed, woken by the nodes' signals and polled as a backstop. Ids are
 * taken when a row is inserted but seen when it commits, so an id skipped by the cursor is looked for
 * again for a while. PostgreSQL with the event log on only: on SQLite this daemon is the only node.
 */
@Injectable()
export class EventLogTail {
  private deliver?: (record: EventRecord) => void;
  private cursor?: number;
  private readonly gaps = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private listening = false;
  private reading = false;
  private readAgain = false;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: EventLogRepository,
  ) {}

  start(deliver: (record: EventRecord) => void): void {
    if (!this.config.node.clustered || !this.config.eventLog || this.deliver) return;
    this.deliver = deliver;
    if (!this.listening) {
      this.listening = true;
      this.repo.onWritten(() => this.read());
    }
    this.timer = setInterval(() => this.read(), POLL_MS).unref();
    this.read();
  }

  stop(): void {
    clearInterval(this.timer);
    this.deliver = undefined;
    this.cursor = undefined;
    this.gaps.clear();
  }

  /** One read at a time; a wake-up during a read makes one more after it. */
  private read(): void {
    if (!this.deliver) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.readNew()
      .catch((error: Error) => this.log.warn({ err: error.message }, 'other nodes’ events not read; trying again'))
      .finally(() => {
        this.reading = false;
        if (this.readAgain) {
          this.readAgain = false;
          this.read();
        }
      });
  }

  private async readNew(): Promise<void> {
    if (this.cursor === undefined) {
      this.cursor = await this.repo.lastId();
      return;
    }
    const now = Date.now();
    for (const [id, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(id);
    for (;;) {
      const rows = await this.repo.tail(this.cursor, [...this.gaps.keys()], ROWS_PER_READ);
      // Stopped while reading: the cursor was reset, nothing more is delivered.
      if (!this.deliver || this.cursor === undefined) return;
      for (const row of rows) {
        this.gaps.delete(row.id);
        if (row.id > this.cursor) {
          for (let id = this.cursor + 1; id < row.id && this.gaps.size < MAX_GAPS; id++) this.gaps.set(id, now);
          this.cursor = row.id;
        }
        const record = this.recordOf(row);
        if (record) this.deliver(record);
      }
      if (rows.length < ROWS_PER_READ) return;
    }
  }

  /** The event as monitor:event pushes it; undefined for this node's own (delivered as they happen) and rows of an older KSI. */
  private recordOf(row: TailedRow): EventRecord | undefined {
    const meta = JSON.parse(row.meta) as unknown[];
    const node = meta[NODE_META_INDEX];
    if (typeof node !== 'string' || node === this.config.node.id) return undefined;
    const [eventId, parentId, correlationId, eventName, clientId, agentId, , source, outcome, durationMs] = meta as (string | number | null)[];
    return {
      event_id: String(eventId),
      ...(parentId !== null && { parent_id: String(parentId) }),
      event_name: String(eventName),
      data: JSON.parse(row.data) as unknown,
      timestamp: row.timestamp,
      correlation_id: correlationId === null ? null : String(correlationId),
      ...(clientId !== null && { client_id: String(clientId) }),
      ...(agentId !== null && { agent_id: String(agentId) }),
      source: source as EventRecord['source'],
      ...(outcome !== null && { outcome: String(outcome) }),
      ...(durationMs !== null && { duration_ms: Number(durationMs) }),
      node_id: node,
    };
  }
}
