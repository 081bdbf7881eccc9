/**
 * The event log's writes in SQLite's spelling, which PostgreSQL takes too: the writer thread prepares
 * them on its own connection, the repository runs them through Storage on PostgreSQL.
 */

/** One statement for many rows costs far less per row than one each. */
export const ROWS_PER_INSERT = 50;
/** Deletes go in chunks, each its own transaction (retention after a long downtime can be millions of rows). */
export const ROWS_PER_DELETE = 5_000;

/** Inserts `rows` rows, binding timestamp, meta and data of each in turn. */
export const insertRowsText = (rows: number): string =>
  `INSERT INTO event_log (timestamp, meta, data) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')}`;

export const LAST_ID_TEXT = 'SELECT MAX(id) FROM event_log';
/** A chunk of the rows older than a cutoff (epoch seconds). */
export const DELETE_BEFORE_TEXT = `DELETE FROM event_log WHERE id IN (SELECT id FROM event_log WHERE timestamp < ? LIMIT ${ROWS_PER_DELETE})`;
/** A chunk of the rows up to an id: clearing spares the rows written after it was asked. */
export const DELETE_THROUGH_TEXT = `DELETE FROM event_log WHERE id IN (SELECT id FROM event_log WHERE id <= ? LIMIT ${ROWS_PER_DELETE})`;
