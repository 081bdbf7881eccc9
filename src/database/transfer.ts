import { getMetadataArgsStorage } from 'typeorm';
import { ENTITIES } from './entities';
import { sql, type SqlStatement } from './sql-statement';
import type { Storage } from './storage';

/** The first line of an export: what follows, so an import can refuse what it does not know. */
export interface ExportHeader {
  ksi_export: 1;
  dialect: Storage['dialect'];
  exported_at: string;
  /** Rows per table, in the order they follow. */
  tables: Record<string, number>;
}

/** Every later line: one row of one table, by column name. */
export interface ExportRow {
  table: string;
  row: Record<string, unknown>;
}

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
 * Writes the whole database as NDJSON: a header, then every row of every table, page by page, so a
 * large event log never sits in memory. Works the same on both dialects; the file moves a KSI from
 * SQLite to PostgreSQL (or back) with `importDatabase`.
 */
export async function exportDatabase(storage: Storage, write: (line: string) => Promise<void>): Promise<ExportHeader> {
  const all = tables();
  const counts: Record<string, number> = {};
  for (const table of all) [counts[table.name]] = await storage.column<number>(sql(`SELECT COUNT(*) FROM ${table.name}`));
  const header: ExportHeader = { ksi_export: 1, dialect: storage.dialect, exported_at: new Date().toISOString(), tables: counts };
  await write(JSON.stringify(header));
  for (const table of all) {
    const page = sql(`SELECT ${table.columns.map(quoted).join(', ')} FROM ${table.name} ORDER BY ${table.orderBy} LIMIT ${PAGE} OFFSET ?`);
    for (let offset = 0; offset < counts[table.name]; offset += PAGE) {
      for (const row of await storage.all<Record<string, unknown>>(page, [offset])) await write(JSON.stringify({ table: table.name, row } satisfies ExportRow));
    }
  }
  return header;
}

/** A line of an import that cannot be taken, with its line number. */
export class ImportError extends Error {}

/**
 * Reads an export into an empty database (refusing one that holds any row: nothing is merged or
 * overwritten). Rows go in one transaction per page; a bad line stops the import, naming it, and
 * takes back what was imported before it.
 */
export async function importDatabase(storage: Storage, lines: AsyncIterable<string>): Promise<Record<string, number>> {
  // Taken before the first await: a readline interface drops the lines read before someone iterates it.
  const input = lines[Symbol.asyncIterator]();
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
    let lineNumber = 0;
    let header: ExportHeader | undefined;
    for (let next = await input.next(); !next.done; next = await input.next()) {
      const line = next.value;
      lineNumber++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new ImportError(`Line ${lineNumber} is not JSON: an export has one JSON object per line.`);
      }
      if (!header) {
        if ((parsed as ExportHeader)?.ksi_export !== 1) throw new ImportError('The first line is not the header of a `ksi db export` (version 1).');
        header = parsed as ExportHeader;
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
    if (!header) throw new ImportError('The file is empty: expected the output of `ksi db export`.');
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
