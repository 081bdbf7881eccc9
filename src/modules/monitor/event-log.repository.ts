import { Injectable } from '@nestjs/common';
import { sql, type SqlStatement } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import { globPattern } from '../../database/glob-pattern';
import { EVENT_META, NODE_META_INDEX, type EventLogEntry, type EventMeta } from './event-log.entity';
import { VALUES_PER_ROW } from './event-log.protocol';
import { DELETE_BEFORE_TEXT, DELETE_THROUGH_TEXT, insertRowsText, LAST_ID_TEXT, ROWS_PER_DELETE, ROWS_PER_INSERT } from './event-log.sql';
import { EventLogWriterThread } from './event-log.writer-thread';

/** An event as read back: its data is JSON text. */
export type StoredEvent = Pick<EventLogEntry, 'timestamp' | 'data'> & EventMeta;

/** Which events to read; a filter left undefined matches every event. */
export interface EventSelection {
  /** Globs over event names (SQLite's GLOB); none: every name. */
  patterns: string[];
  /** Epoch seconds, inclusive. */
  since?: number;
  until?: number;
  clientId?: string;
  sessionId?: string;
  correlationId?: string;
  newestFirst: boolean;
}

/**
 * The event log with the values of `meta` as columns, read out of it by the queries that name them
 * (both engines put the expressions in the outer query): the table itself has none, so inserts
 * compute nothing. PostgreSQL's `json` extracts without converting the whole array as jsonb would.
 */
const META_COLUMNS: [name: string, index: number][] = [...EVENT_META.map((name, index): [string, number] => [name, index]), ['node_id', NODE_META_INDEX]];
const eventsReading = (value: (index: number, name: string) => string) =>
  `(SELECT id, timestamp, data, ${META_COLUMNS.map(([name, index]) => `${value(index, name)} AS ${name}`).join(', ')} FROM event_log) AS events`;
const EVENTS = {
  sqlite: eventsReading((index) => `meta ->> ${index}`),
  postgres: eventsReading((index, name) => (name === 'duration_ms' ? `((meta)::json ->> ${index})::double precision` : `(meta)::json ->> ${index}`)),
};

const correlationStatsOf = (events: string) => `SELECT COUNT(DISTINCT correlation_id) AS correlations, COUNT(*) AS events, MIN(timestamp) AS oldest FROM ${events}`;

const SELECTED = `event_id AS "eventId", parent_id AS "parentId", correlation_id AS "correlationId", event_name AS "eventName",
  timestamp, client_id AS "clientId", agent_id AS "agentId", session_id AS "sessionId", source, outcome, duration_ms AS "durationMs", node_id AS "nodeId", data`;

/**
 * A statement per shape of selection: whether it has patterns, since, until, and its direction. The
 * time bounds are left out rather than matched as null, so that SQLite can use the timestamp index
 * when they are given and walk ids when they are not. `@cursor` is the last id already read. Each
 * optional value is compared before it is tested for null: PostgreSQL takes its type from the first.
 */
function selectionStatement(patterns: boolean, since: boolean, until: boolean, newestFirst: boolean): SqlStatement {
  const clauses = (matchPatterns: string, cursor: string) => [
    ...(patterns ? [matchPatterns] : []),
    ...(since ? ['timestamp >= @since'] : []),
    ...(until ? ['timestamp <= @until'] : []),
    '(client_id = @clientId OR @clientId IS NULL)',
    '(session_id = @sessionId OR @sessionId IS NULL)',
    '(correlation_id = @correlationId OR @correlationId IS NULL)',
    `id ${newestFirst ? '<' : '>'} ${cursor}`,
  ];
  const text = (events: string, matchPatterns: string, cursor: string) =>
    `SELECT id, ${SELECTED} FROM ${events} WHERE ${clauses(matchPatterns, cursor).join(' AND ')} ORDER BY id ${newestFirst ? 'DESC' : 'ASC'} LIMIT @rows`;
  return sql(
    text(EVENTS.sqlite, 'EXISTS (SELECT 1 FROM json_each(@patterns) WHERE event_name GLOB json_each.value)', '@cursor'),
    // Patterns as POSIX regular expressions (globPattern); the cursor may pass an int4 id's range.
    text(EVENTS.postgres, 'EXISTS (SELECT 1 FROM jsonb_array_elements_text(@patterns::jsonb) AS p(pattern) WHERE event_name ~ p.pattern)', '@cursor::bigint'),
  );
}

const shapeOf = (patterns: boolean, since: boolean, until: boolean, newestFirst: boolean) => `${+patterns}${+since}${+until}${+newestFirst}`;

const selections = new Map<string, SqlStatement>();
for (const patterns of [false, true]) {
  for (const since of [false, true]) {
    for (const until of [false, true]) {
      for (const newestFirst of [false, true]) selections.set(shapeOf(patterns, since, until, newestFirst), selectionStatement(patterns, since, until, newestFirst));
    }
  }
}

/** A full chunk of rows takes one statement; a shorter last chunk one of its own size. */
const inserts = new Map<number, SqlStatement>();
const insertFor = (rows: number): SqlStatement => {
  let statement = inserts.get(rows);
  if (!statement) inserts.set(rows, (statement = sql(insertRowsText(rows))));
  return statement;
};

/** A row as other nodes' monitors read it (PostgreSQL only): meta and data are JSON text. */
export interface TailedRow {
  id: number;
  timestamp: number;
  meta: string;
  data: string;
}

/** The signal a node sends once its events are committed: other nodes' monitors read them. */
const WRITTEN_SIGNAL = 'ksi_events';

const statements = {
  count: sql('SELECT COUNT(*) FROM event_log'),
  // Rows past the cursor, and rows whose ids were skipped (a node's batch not yet committed when the cursor passed them).
  // Two index lookups: a range past the cursor, and the skipped ids one by one.
  tail: sql(
    `SELECT * FROM (SELECT id, timestamp, meta, data FROM event_log WHERE id > @after ORDER BY id LIMIT @rows) AS newer
     UNION ALL SELECT id, timestamp, meta, data FROM event_log WHERE id IN (SELECT value FROM json_each(@gaps)) ORDER BY id`,
    `(SELECT id, timestamp, meta, data FROM event_log WHERE id > @after::bigint ORDER BY id LIMIT @rows)
     UNION ALL (SELECT id, timestamp, meta, data FROM event_log WHERE id = ANY(SELECT jsonb_array_elements_text(@gaps::jsonb)::bigint)) ORDER BY id`,
  ),
  correlationStats: sql(correlationStatsOf(EVENTS.sqlite), correlationStatsOf(EVENTS.postgres)),
  lastId: sql(LAST_ID_TEXT),
  deleteBefore: sql(DELETE_BEFORE_TEXT),
  deleteThrough: sql(DELETE_THROUGH_TEXT),
};

/** Higher than any id: where a newest-first read starts. */
const AFTER_LAST_ID = Number.MAX_SAFE_INTEGER;

/**
 * Every query of `event_log`. Reads go through Storage. Writes on SQLite go to the writer thread
 * (its own connection, off the daemon's thread); on PostgreSQL, each batch is one transaction beside
 * Storage's write queue (writeAside), so that no write waits behind hundreds of rows of the log. Either
 * way writes are carried out in the order they were asked.
 */
@Injectable()
export class EventLogRepository {
  /** PostgreSQL: settles when every write asked so far is carried out (see written). */
  private lastWrite: Promise<unknown> = Promise.resolve();
  private closedForGood = false;

  constructor(
    private readonly storage: Storage,
    private readonly thread: EventLogWriterThread,
  ) {}

  private get onThread(): boolean {
    return this.storage.dialect === 'sqlite';
  }

  /** Set once the writer closed for good: later writes fail. */
  get closed(): boolean {
    return this.onThread ? this.thread.closed : this.closedForGood;
  }

  /** How long to hold batches back while a failed writer thread waits to be restarted; 0 when writes may go. */
  restartWaitMs(): number {
    return this.onThread ? this.thread.restartWaitMs() : 0;
  }

  /** Settles once every write asked so far was carried out (or failed). */
  writesSettled(): Promise<unknown> {
    return this.onThread ? this.thread.handledAll() : this.lastWrite;
  }

  /**
   * `rows` is flat: timestamp, meta and data of each row in turn. Resolves once committed with how
   * many rows; on PostgreSQL the other nodes are then told (see onWritten).
   */
  insert(rows: unknown[]): Promise<number> {
    if (this.onThread) return this.thread.call({ op: 'insert', rows });
    return this.written(async () => {
      const count = await this.storage.writeAside(async (tx) => {
        const step = ROWS_PER_INSERT * VALUES_PER_ROW;
        for (let start = 0; start < rows.length; start += step) {
          const chunk = rows.slice(start, start + step);
          await tx.run(insertFor(chunk.length / VALUES_PER_ROW), chunk);
        }
        return rows.length / VALUES_PER_ROW;
      });
      void this.storage.signal(WRITTEN_SIGNAL, '').catch(() => undefined);
      return count;
    });
  }

  /** Calls `listener` whenever a node committed events (PostgreSQL only). */
  onWritten(listener: () => void): void {
    this.storage.onSignal(WRITTEN_SIGNAL, listener);
  }

  /** Up to `rows` rows after the id `after`, and those of the ids in `gaps`, in id order. */
  tail(after: number, gaps: number[], rows: number): Promise<TailedRow[]> {
    return this.storage.all<TailedRow>(statements.tail, { after, gaps: JSON.stringify(gaps), rows });
  }

  /** The highest id written; 0 for none. */
  async lastId(): Promise<number> {
    const [last] = await this.storage.column<number | null>(statements.lastId);
    return last ?? 0;
  }

  /** Deletes the rows older than `cutoff` (epoch seconds); resolves with how many. */
  deleteBefore(cutoff: number): Promise<number> {
    if (this.onThread) return this.thread.call({ op: 'delete_before', cutoff });
    return this.written(() => this.deleteInChunks(statements.deleteBefore, cutoff));
  }

  /** Retention: deletes the rows older than `cutoff` (epoch seconds), on one node at a time when several share the database. */
  async retain(cutoff: number): Promise<void> {
    await this.storage.exclusively('ksi_event_log_retention', () => this.deleteBefore(cutoff));
  }

  /** Deletes every row written so far, rows still being written included; resolves with how many. */
  deleteAll(): Promise<number> {
    if (this.onThread) return this.thread.call({ op: 'delete_all' });
    return this.written(async () => {
      // The rows asked to be written before are committed by now (see written).
      const [lastId] = await this.storage.column<number | null>(statements.lastId);
      return lastId === null ? 0 : this.deleteInChunks(statements.deleteThrough, lastId);
    });
  }

  /** Closes the writer; later writes fail. */
  async close(): Promise<void> {
    this.closedForGood = true;
    if (this.onThread) await this.thread.close();
    else await this.lastWrite;
  }

  /** Up to `rows` events of a selection after the id `cursor` (in the selection's direction); undefined: from its start. */
  select(selection: EventSelection, rows: number, cursor?: number): Promise<(StoredEvent & { id: number })[]> {
    const patterns = selection.patterns.length > 0;
    const statement = selections.get(shapeOf(patterns, selection.since !== undefined, selection.until !== undefined, selection.newestFirst))!;
    const globs = this.storage.dialect === 'postgres' ? selection.patterns.map(globPattern) : selection.patterns;
    return this.storage.all(statement, {
      patterns: patterns ? JSON.stringify(globs) : null,
      since: selection.since ?? null,
      until: selection.until ?? null,
      clientId: selection.clientId ?? null,
      sessionId: selection.sessionId ?? null,
      correlationId: selection.correlationId ?? null,
      cursor: cursor ?? (selection.newestFirst ? AFTER_LAST_ID : 0),
      rows,
    });
  }

  async count(): Promise<number> {
    const [count] = await this.storage.column<number>(statements.count);
    return count;
  }

  async correlationStats(): Promise<{ correlations: number; events: number; oldest: number | null }> {
    return (await this.storage.get<{ correlations: number; events: number; oldest: number | null }>(statements.correlationStats))!;
  }

  /** One transaction per chunk: the other writes never wait long behind a large delete. */
  private async deleteInChunks(statement: SqlStatement, bound: number): Promise<number> {
    let total = 0;
    for (;;) {
      const changes = await this.storage.writeStatement(statement, [bound]);
      total += changes;
      if (changes < ROWS_PER_DELETE) return total;
    }
  }

  /** PostgreSQL: starts `start` once every write asked before it is done, so the log keeps its order. */
  private written<T>(start: () => Promise<T>): Promise<T> {
    if (this.closedForGood) return Promise.reject(new Error('the event log is closed: the daemon is stopping'));
    const write = this.lastWrite.then(start);
    this.lastWrite = write.catch(() => undefined);
    return write;
  }
}
