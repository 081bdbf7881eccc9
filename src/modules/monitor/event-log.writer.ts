import Database, { type Statement } from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { WriteLock } from '../../database/write-lock';
import { ROWS_PER_BATCH, VALUES_PER_ROW, type WriterOptions, type WriterReply, type WriterRequest } from './event-log.protocol';
import { DELETE_BEFORE_TEXT, DELETE_THROUGH_TEXT, insertRowsText, LAST_ID_TEXT, ROWS_PER_DELETE, ROWS_PER_INSERT } from './event-log.sql';

/**
 * The event log repository's writer on SQLite (event-log.repository.ts): the only writer of
 * `event_log`, on its own connection to the daemon's database, so the daemon's thread spends no time
 * in SQLite for events it only records. Requests are handled in the order they were sent.
 */

/**
 * A full batch in one transaction: the daemon's writes wait for it at most ~1 ms. Against 100 rows a
 * transaction, the process spent ~6% less CPU per pipelined state:set (the WAL's last pages are
 * written once per batch instead of five times), and on two cores that time is the daemon's (measured).
 */
const ROWS_PER_TRANSACTION = ROWS_PER_BATCH;
/** SQLite's own threshold for copying the WAL back into the database. */
const CHECKPOINT_PAGES = 1_000;

const options = workerData as WriterOptions;
const port = parentPort!;
const db = new Database(options.dbPath, { timeout: 5_000 });
db.pragma('synchronous = NORMAL');
// SQLite's automatic checkpoint runs inside a COMMIT, so under the lock, and the daemon's writes
// waited for it (a sixth of the time under state:set at 16 connections): checkpointIfDue runs it after.
db.pragma('wal_autocheckpoint = 0');
const lock = new WriteLock(options.lock);
const inserts = new Map<number, Statement>();
const walState = db.prepare('PRAGMA wal_checkpoint(NOOP)');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

function insertFor(rows: number): Statement {
  let statement = inserts.get(rows);
  if (!statement) {
    statement = db.prepare(insertRowsText(rows));
    inserts.set(rows, statement);
  }
  return statement;
}

const insertRows = db.transaction((values: unknown[]) => {
  for (let start = 0; start < values.length; start += ROWS_PER_INSERT * VALUES_PER_ROW) {
    const chunk = values.slice(start, start + ROWS_PER_INSERT * VALUES_PER_ROW);
    insertFor(chunk.length / VALUES_PER_ROW).run(chunk);
  }
});

function deleteInChunks(statement: Statement, params: unknown[]): number {
  let total = 0;
  for (;;) {
    const { changes } = lock.hold(() => statement.run(...params));
    checkpointIfDue();
    total += changes;
    if (changes < ROWS_PER_DELETE) return total;
  }
}

interface WalState {
  /** Frames in the WAL. */
  log: number;
  /** Of them, those already copied into the database. */
  checkpointed: number;
}

/**
 * What SQLite's automatic checkpoint does, outside the lock: once the WAL is CHECKPOINT_PAGES long,
 * copy what it holds into the database. PASSIVE lets the daemon commit meanwhile. NOOP only reads the
 * WAL's state (in the SQLite better-sqlite3 bundles; one without it takes it for PASSIVE, which
 * checkpoints each time).
 */
function checkpointIfDue(): void {
  const wal = walState.get() as WalState;
  if (wal.log >= CHECKPOINT_PAGES && wal.checkpointed < wal.log) checkpoint.get();
}

function handle(request: WriterRequest): number {
  switch (request.op) {
    case 'insert': {
      const step = ROWS_PER_TRANSACTION * VALUES_PER_ROW;
      for (let start = 0; start < request.rows.length; start += step) lock.hold(() => insertRows(request.rows.slice(start, start + step)));
      checkpointIfDue();
      return request.rows.length / VALUES_PER_ROW;
    }
    case 'delete_before':
      return deleteInChunks(db.prepare(DELETE_BEFORE_TEXT), [request.cutoff]);
    case 'delete_all':
      return deleteInChunks(db.prepare(DELETE_THROUGH_TEXT), [db.prepare(LAST_ID_TEXT).pluck().get() ?? 0]);
    case 'close':
      db.close();
      return 0;
  }
}

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    reply = { id: request.id, changes: handle(request) };
  } catch (error) {
    reply = { id: request.id, error: (error as Error).message };
  }
  port.postMessage(reply);
  if (request.op === 'close') port.close();
});
