import { getMetadataArgsStorage } from 'typeorm';
import { ENTITIES } from './entities';

/**
 * The entities are written in SQLite's types; PostgreSQL spells two of them differently. This is the
 * whole mapping, applied to the entities' column declarations before a PostgreSQL schema is compared
 * with them or a migration generated from them:
 * - `real` is SQLite's 8-byte float but PostgreSQL's 4-byte one: `double precision` keeps epoch
 *   milliseconds and costs exact;
 * - the event log's virtual columns read `meta ->> n` (SQLite's JSON); PostgreSQL 15 has only stored
 *   generated columns, reading the same array as jsonb.
 * It changes the declarations for the whole process: only for a process that uses PostgreSQL alone
 * (the schema check), never in the daemon, which runs migrations and no entity metadata.
 */
export function adaptEntitiesToPostgres(): void {
  for (const column of getMetadataArgsStorage().columns) {
    if (!ENTITIES.includes(column.target as (typeof ENTITIES)[number])) continue;
    const options = column.options;
    if (options.type === 'real') options.type = 'double precision';
    if (options.generatedType === 'VIRTUAL' && options.asExpression) {
      const index = /->>\s*(\d+)/.exec(options.asExpression)?.[1];
      if (index === undefined) throw new Error(`No PostgreSQL form for the generated column ${String(options.name)}: ${options.asExpression}`);
      const text = `(meta)::jsonb ->> ${index}`;
      options.asExpression = options.type === 'double precision' ? `((${text}))::double precision` : text;
      options.generatedType = 'STORED';
    }
  }
}
