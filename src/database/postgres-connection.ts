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

/** PostgreSQL's own default, which pg uses when the URL names no port. */
const DEFAULT_PORT = '5432';

/**
 * The server and database of a KSI_DATABASE_URL, for messages and system:health, as a URL without
 * the user and password; a Unix socket's directory as `?host=`, so that it does not read as a file.
 */
export function postgresLocation(url: string): string {
  const { host, port, database } = parse(url);
  const portOrDefault = port || DEFAULT_PORT;
  const name = encodeURIComponent(database ?? '');
  return host?.startsWith('/') ? `postgresql:///${name}?host=${host}&port=${portOrDefault}` : `postgresql://${host || 'localhost'}:${portOrDefault}/${name}`;
}
