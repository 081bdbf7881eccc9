import { getMetadataArgsStorage } from 'typeorm';
import { ENTITIES } from './entities';

/**
 * The entities are written in SQLite's types; PostgreSQL spells one of them differently. This is the
 * whole mapping, applied to the entities' column declarations before a PostgreSQL schema is compared
 * with them or a migration generated from them: `real` is SQLite's 8-byte float but PostgreSQL's
 * 4-byte one; `double precision` keeps epoch milliseconds and costs exact.
 * It changes the declarations for the whole process: only for a process that uses PostgreSQL alone
 * (the schema check), never in the daemon, which runs migrations and no entity metadata.
 */
export function adaptEntitiesToPostgres(): void {
  for (const column of getMetadataArgsStorage().columns) {
    if (!ENTITIES.includes(column.target as (typeof ENTITIES)[number])) continue;
    const options = column.options;
    if (options.type === 'real') options.type = 'double precision';
  }
}
