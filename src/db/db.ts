// The database seen by the rest of Pulse: the same small interface over
// embedded PGlite and over Postgres (postgres.js), plus a drizzle instance for
// typed queries. Raw SQL goes through `query(text, params)`, whose results are
// parsed the same way on both (int8 → number, timestamptz → Date, jsonb → object).

import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.ts";

export type DbKind = "pglite" | "postgres";

export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations, DDL). */
  exec(text: string): Promise<void>;
  /** Typed queries through drizzle, on the same connection or transaction. */
  readonly orm: Orm;
  /**
   * Bulk load rows: COPY on Postgres (through a staging table, because COPY
   * cannot load a table under row-level security and the policies must check
   * the rows), multi-row INSERT on PGlite. Values as for query().
   */
  copyRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
}

/** A connection held alone for as long as the caller needs it (leader locks). */
export interface Session extends Sql {
  release(): Promise<void>;
}

export interface DbStats {
  poolMax: number;
  queries: number;
  errors: number;
  inflight: number;
}

export interface Db extends Sql {
  readonly kind: DbKind;
  /** BEGIN … COMMIT; rolls back when fn throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** A dedicated connection for session-level state such as advisory locks. */
  session(): Promise<Session>;
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  stats(): DbStats;
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball (tests clone a migrated template). */
  dump?(): Promise<Blob>;
}

/**
 * A LISTEN/NOTIFY channel name, checked: lower-case identifiers only, because
 * PGlite sends LISTEN unquoted (Postgres folds the name to lower case, and a
 * dot or dash is a syntax error) while postgres.js quotes it.
 */
export function checkChannel(channel: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new Error(`db: channel ${JSON.stringify(channel)} must be a lower-case identifier (a-z, 0-9, _; at most 63)`);
  }
  return channel;
}

/** Rows of a query that returns exactly one row, or an error naming what was expected. */
export async function one<T>(sql: Sql, text: string, params?: readonly unknown[]): Promise<T> {
  const rows = await sql.query<T>(text, params);
  if (rows.length !== 1) throw new Error(`db: expected one row, got ${rows.length}: ${text.slice(0, 80)}`);
  return rows[0]!;
}

/** The first row or undefined. */
export async function maybeOne<T>(sql: Sql, text: string, params?: readonly unknown[]): Promise<T | undefined> {
  const rows = await sql.query<T>(text, params);
  return rows[0];
}
