// Postgres 15+ (or TimescaleDB) through postgres.js: the production database
// when `database.url` is set. A pool of connections; transactions and sessions
// hold one connection each.

import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import type { Db, DbStats, Orm, Sql } from "./db.ts";
import * as schema from "./schema.ts";

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName?: string;
  /** Role every connection runs as (set at connect, so no query can forget it). */
  role?: string;
}

type Client = postgres.Sql<{}>;
type Runner = postgres.Sql<{}> | postgres.TransactionSql<{}> | postgres.ReservedSql<{}>;

/** Connect to Postgres and check the connection works before returning. */
export async function openPostgres(opts: PostgresOptions): Promise<Db> {
  const stats: DbStats = { poolMax: opts.poolMax, queries: 0, errors: 0, inflight: 0 };
  const client: Client = postgres(opts.url, {
    max: opts.poolMax,
    idle_timeout: 60,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? "pulse",
      ...(opts.role ? { role: opts.role } : {}),
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    },
    // Counts come back as numbers, as on PGlite.
    types: { int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) } } as never,
  });
  // jsonb and json parameters are passed as JSON text (by drizzle and by raw
  // queries alike), so the driver must not encode them a second time.
  const passThrough = (v: unknown) => v;
  (client.options.serializers as Record<string, unknown>)["114"] = passThrough;
  (client.options.serializers as Record<string, unknown>)["3802"] = passThrough;
  const orm = makeOrm(client, client.options);
  try {
    await client`select 1`;
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new Error(`db: cannot connect to ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err });
  }

  const sqlOver = (runner: Runner, makeRunnerOrm: () => Orm): Sql => {
    let runnerOrm: Orm | undefined;
    return {
    // Built on first use: most transactions (the ingest writer's) never need drizzle.
    get orm() {
      return (runnerOrm ??= makeRunnerOrm());
    },
    query: async <T>(text: string, params?: readonly unknown[]): Promise<T[]> => {
      stats.queries++;
      stats.inflight++;
      try {
        return (await runner.unsafe(text, (params ?? []) as never[], { prepare: true })) as unknown as T[];
      } catch (err) {
        stats.errors++;
        throw err;
      } finally {
        stats.inflight--;
      }
    },
    exec: async (text) => {
      await runner.unsafe(text);
    },
    copyRows: async (table, columns, rows) => {
      if (rows.length === 0) return;
      const stream = await runner.unsafe(`copy ${table} (${columns.join(",")}) from stdin`).writable();
      await new Promise<void>((resolve, reject) => {
        stream.on("error", reject);
        stream.on("finish", resolve);
        // One write: the rows are already in memory and COPY streams them in one go.
        stream.end(rows.map(copyLine).join(""));
      });
    },
    };
  };

  const base = sqlOver(client, () => orm);
  return {
    ...base,
    kind: "postgres",
    transaction: async (fn) => (await client.begin((tx) => fn(sqlOver(tx, () => makeOrm(tx, client.options))))) as never,
    session: async () => {
      const reserved = await client.reserve();
      return { ...sqlOver(reserved, () => makeOrm(reserved, client.options)), release: async () => reserved.release() };
    },
    listen: async (channel, onPayload) => {
      const sub = await client.listen(channel, onPayload);
      return () => sub.unlisten();
    },
    notify: async (channel, payload) => {
      await client.notify(channel, payload);
    },
    stats: () => ({ ...stats }),
    close: async () => {
      await client.end({ timeout: 5 });
    },
  };
}

// drizzle is handed a stand-in client: the same `unsafe` as the runner, but
// its own copy of the options, because drizzle rewrites the parsers of the
// client it gets (dates as strings) and raw queries here want Dates.
function makeOrm(runner: Runner, options: Client["options"]): Orm {
  const standIn = {
    options: { ...options, parsers: { ...options.parsers }, serializers: { ...options.serializers } },
    unsafe: (...args: Parameters<Client["unsafe"]>) => runner.unsafe(...args),
  };
  return drizzle(standIn as unknown as Client, { schema }) as unknown as Orm;
}

/** COPY text format: tab-separated, \N for null, backslash escapes. */
function copyLine(row: readonly unknown[]): string {
  return row.map(copyValue).join("\t") + "\n";
}

function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const s = v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"));
}

/** The URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(unparseable database url)";
  }
}
