import { getMetadataArgsStorage } from 'typeorm';
import { ENTITIES } from './entities';
import { sql, type SqlStatement } from './sql-statement';
import type { Storage } from './storage';

/**
 * The first line of an export. Version 1 counted each table's rows here, before reading them (so a
 * running daemon made the counts wrong); version 2 counts what it wrote, on its last line.
 */
export interface ExportHeader {
  ksi_export: 1 | 2;
  dialect: Storage['dialect'];
  exported_at: string;
  /** Version 1: rows per table. */
  tables?: Record<string, number>;
}

/** Every line between the first and the last: one row of one table, by column name. */
export interface ExportRow {
  table: string;
  row: Record<string, unknown>;
}

/** The last line of a version 2 export: an import refuses a file without it (cut short). */
export interface ExportEnd {
  ksi_export_end: true;
  /** Rows written per table. */
  rows: Record<string, number>;
}

const EXPORT_VERSION = 2;

interface Table {
  name: string;
  columns: string[];
  /** `id` for tables numbered by the database: read in that order, and the counter moved past it on import. */
  serial: boolean;
  orderBy: string;
}

const PAGE = 1_000;

/** Column names such as `key` and `extends` are safe quoted on both dialects. */
const quoted = (identifier: string) => `"${identifier}"`;

/** Every table of the schema, from the entities (the one description of it). */
function tables(): Table[] {
  const storage = getMetadataArgsStorage();
  return ENTITIES.map((entity) => {
    const name = storage.tables.find((table) => table.target === entity)!.name!;
    const columns = storage.columns.filter((column) => column.target === entity);
    const names = columns.map((column) => column.options.name ?? column.propertyName);
    const primary = columns.filter((column) => column.options.primary).map((column) => column.options.name ?? column.propertyName);
    const serial = storage.generations.some((generation) => generation.target === entity && generation.propertyName === 'id');
    return { name, columns: names, serial, orderBy: primary.map(quoted).join(', ') };
  });
}

/**
 * Writes the whole database as NDJSON: a header, every row of every table, page by page (so a large
 * event log never sits in memory), and a last line counting the rows written. Works the same on both
 * dialects; the file moves a KSI from SQLite to PostgreSQL (or back) with `importDatabase`.
 */
export async function exportDatabase(storage: Storage, write: (line: string) => Promise<void>): Promise<ExportEnd> {
  const header: ExportHeader = { ksi_export: EXPORT_VERSION, dialect: storage.dialect, exported_at: new Date().toISOString() };
  await write(JSON.stringify(header));
  const end: ExportEnd = { ksi_export_end: true, rows: {} };
  for (const table of tables()) {
    const page = sql(`SELECT ${table.columns.map(quoted).join(', ')} FROM ${table.name} ORDER BY ${table.orderBy} LIMIT ${PAGE} OFFSET ?`);
    let written = 0;
    for (;;) {
      const rows = await storage.all<Record<string, unknown>>(page, [written]);
      for (const row of rows) await write(JSON.stringify({ table: table.name, row } satisfies ExportRow));
      written += rows.length;
      if (rows.length < PAGE) break;
    }
    end.rows[table.name] = written;
  }
  await write(JSON.stringify(end));
  return end;
}

/** A line of an import that cannot be taken, with its line number. */
export class ImportError extends Error {}

/**
 * Reads an export into an empty database (refusing one that holds any row: nothing is merged or
 * overwritten). Rows go in one transaction per page; a bad line, or a file that ends before the rows
 * it counts, stops the import, naming why, and takes back what was imported before.
 */
export async function importDatabase(storage: Storage, lines: AsyncIterable<string>): Promise<Record<string, number>> {
  // Taken before the first await: a readline interface drops the lines read before someone iterates it.
  const input = lines[Symbol.asyncIterator]();
  let lineNumber = 0;
  /** The next line that is not blank, parsed; undefined at the end of the file. */
  const nextLine = async (): Promise<unknown> => {
    for (let next = await input.next(); !next.done; next = await input.next()) {
      lineNumber++;
      if (next.value.trim() === '') continue;
      try {
        return JSON.parse(next.value) as unknown;
      } catch {
        throw new ImportError(`Line ${lineNumber} is not JSON: an export has one JSON object per line.`);
      }
    }
    return undefined;
  };
  // The file first: one that is not an export is named so, whatever the database holds.
  const header = (await nextLine()) as ExportHeader | undefined;
  if (header === undefined) throw new ImportError('The file is empty: expected the output of `ksi db export`.');
  if (header?.ksi_export !== 1 && header?.ksi_export !== EXPORT_VERSION) throw new ImportError(`The first line is not the header of a \`ksi db export\` (version 1 or ${EXPORT_VERSION}).`);
  const byName = new Map(tables().map((table) => [table.name, table]));
  for (const table of byName.values()) {
    const [count] = await storage.column<number>(sql(`SELECT COUNT(*) FROM ${table.name}`));
    if (count > 0) throw new ImportError(`The database at ${storage.location} already holds data (${count} rows in ${table.name}): import into an empty database.`);
  }
  const inserts = new Map<string, SqlStatement>();
  const imported: Record<string, number> = {};
  let page: ExportRow[] = [];
  const flush = async () => {
    const rows = page;
    page = [];
    await storage.write(async (tx) => {
      for (const { table, row } of rows) await tx.run(inserts.get(table)!, row);
    });
  };
  try {
    let end: ExportEnd | undefined;
    for (let parsed = await nextLine(); parsed !== undefined; parsed = await nextLine()) {
      if (end) throw new ImportError(`Line ${lineNumber} follows the export's last line.`);
      if ((parsed as ExportEnd)?.ksi_export_end === true && header.ksi_export === EXPORT_VERSION) {
        end = parsed as ExportEnd;
        continue;
      }
      const { table: name, row } = parsed as ExportRow;
      const table = byName.get(name);
      if (!table || typeof row !== 'object' || row === null) throw new ImportError(`Line ${lineNumber}: ${JSON.stringify(name)} is not a table of this KSI (or the line has no row).`);
      const unknown = Object.keys(row).find((column) => !table.columns.includes(column));
      if (unknown) throw new ImportError(`Line ${lineNumber}: ${name} has no column ${JSON.stringify(unknown)}.`);
      if (!inserts.has(name)) inserts.set(name, sql(`INSERT INTO ${name} (${table.columns.map(quoted).join(', ')}) VALUES (${table.columns.map((column) => `@${column}`).join(', ')})`));
      page.push({ table: name, row: Object.fromEntries(table.columns.map((column) => [column, row[column] ?? null])) });
      imported[name] = (imported[name] ?? 0) + 1;
      if (page.length >= PAGE) await flush();
    }
    const counted = header.ksi_export === EXPORT_VERSION ? end?.rows : header.tables;
    if (!counted) throw new ImportError(`The file ends at line ${lineNumber} without the export's last line: it was cut short (an interrupted copy, a full disk?). Export again.`);
    const missing = rowCountMismatches(counted, imported);
    if (missing) throw new ImportError(`The file holds other row counts than the export wrote (${missing}): it was cut short or changed. Export again.`);
    await flush();
  } catch (error) {
    // The tables were empty: emptying them again leaves the database as it was.
    await storage.write(async (tx) => {
      for (const table of byName.values()) await tx.run(sql(`DELETE FROM ${table.name}`));
    });
    throw error instanceof ImportError ? error : new ImportError(`A row could not be written: ${(error as Error).message}`);
  }
  if (storage.dialect === 'postgres') {
    for (const table of byName.values()) {
      if (table.serial) await storage.get(sql(`SELECT setval(pg_get_serial_sequence('${table.name}', 'id'), GREATEST((SELECT MAX(id) FROM ${table.name}), 1))`));
    }
    // The acceptance and publishing orders go on after the imported rows (see the cluster migration).
    for (const table of ['completion_requests', 'bus_messages']) {
      await storage.get(sql(`SELECT setval('${table}_seq', COALESCE((SELECT MAX(seq) FROM ${table}), 0) + 1, false)`));
    }
  }
  return imported;
}

/** "table: read of counted" for each table whose rows read differ from the export's count, or undefined. */
function rowCountMismatches(counted: Record<string, number>, read: Record<string, number>): string | undefined {
  const names = new Set([...Object.keys(counted), ...Object.keys(read)]);
  const mismatches = [...names].filter((name) => (counted[name] ?? 0) !== (read[name] ?? 0)).map((name) => `${name}: ${read[name] ?? 0} of ${counted[name] ?? 0}`);
  return mismatches.length > 0 ? mismatches.join(', ') : undefined;
}
