/** The SQL dialects KSI stores in: the embedded SQLite file, or a PostgreSQL server. */
export type Dialect = 'sqlite' | 'postgres';

/** Positional values for `?`, or named values for `@name`. */
export type SqlParams = readonly unknown[] | object;

/** PostgreSQL's spelling of a statement: `$n` placeholders, and which named value each takes. */
export interface PostgresText {
  text: string;
  /** For `@name` statements: the name behind `$1`, `$2`, ...; undefined for positional ones. */
  names?: string[];
}

let statementsMade = 0;

/**
 * One statement, written once in SQLite's spelling (`?` or `@name` placeholders, never both) and
 * run on either dialect. Where the dialects really differ, the repository gives PostgreSQL's text
 * too. Each storage prepares it once: better-sqlite3 keeps the prepared statement, PostgreSQL a
 * named prepared query per connection.
 */
export class SqlStatement {
  /** The name of PostgreSQL's prepared query; unique per statement. */
  readonly name = `ksi_${++statementsMade}`;
  private postgres?: PostgresText;

  constructor(
    readonly text: string,
    private readonly postgresSpelling?: string,
  ) {}

  forPostgres(): PostgresText {
    this.postgres ??= toPostgres(this.postgresSpelling ?? this.text);
    return this.postgres;
  }

  /** The values in PostgreSQL's order. */
  postgresValues(params: SqlParams | undefined): unknown[] {
    if (params === undefined) return [];
    if (Array.isArray(params)) return params as unknown[];
    const names = this.forPostgres().names ?? [];
    return names.map((name) => (params as Record<string, unknown>)[name] ?? null);
  }
}

/** A statement; `postgres` when PostgreSQL needs different text (same placeholders). */
export const sql = (text: string, postgres?: string): SqlStatement => new SqlStatement(text, postgres);

/**
 * Rewrites `?` and `@name` placeholders as `$n`, leaving quoted strings and identifiers alone. A
 * name used twice takes the same `$n`.
 */
export function toPostgres(text: string): PostgresText {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, i + 1);
      if (end < 0) throw new Error(`Unterminated ${char} in statement: ${text}`);
      out += text.slice(i, end + 1);
      i = end;
    } else if (char === '?') {
      out += `$${++positional}`;
    } else if (char === '@' && /[A-Za-z_]/.test(text[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))![0];
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      out += `$${index + 1}`;
      i += name.length;
    } else {
      out += char;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`A statement takes ? or @name placeholders, not both: ${text}`);
  return { text: out, names: names.length > 0 ? names : undefined };
}
