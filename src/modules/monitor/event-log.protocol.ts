/** What the daemon's thread and the event log's writer thread (event-log.writer.ts) say to each other. */
export interface WriterOptions {
  dbPath: string;
  /** The WriteLock's buffer, shared with the daemon's SQLite storage. */
  lock: SharedArrayBuffer;
}

export type WriterRequest =
  /** `rows` is flat: timestamp, meta, data of each row in turn (see EventLogEntry). */
  | { id: number; op: 'insert'; rows: unknown[] }
  | { id: number; op: 'delete_before'; cutoff: number }
  | { id: number; op: 'delete_all' }
  | { id: number; op: 'close' };

/** `changes`: rows inserted or deleted, once committed. */
export type WriterReply = { id: number; changes: number } | { id: number; error: string };

export const VALUES_PER_ROW = 3;

/** The rows of a full batch of the recorder's; the writer commits up to this many in one transaction. */
export const ROWS_PER_BATCH = 500;
