import type { CustomTypesConfig } from 'pg';
import { parse } from 'pg-connection-string';

const INT8 = 20;
const NUMERIC = 1700;

/**
 * pg's type parsers, but wide integers and numerics as numbers: counts and sums, like SQLite's.
 * A function, so that a daemon on SQLite never loads pg.
 */
export function postgresTypes(): CustomTypesConfig {
  const { types } = require('pg') as typeof import('pg');
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === NUMERIC ? Number : types.getTypeParser(oid, format as 'text')) as CustomTypesConfig['getTypeParser'],
  };
}

/** The server and database of a KSI_DATABASE_URL, for messages and system:health: never the password. */
export function postgresLocation(url: string): string {
  const { host, port, database } = parse(url);
  return `${host ?? 'localhost'}${port ? `:${port}` : ''}/${database ?? ''}`;
}
