// Postgres 15+ (or TimescaleDB) through postgres.js: the production database
// when `database.url` is set. A pool of connections; a transaction holds one
// of them, a session a connection of its own.

import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { checkChannel, type Db, type DbStats, type Orm, type Sql } from "./db.ts";
import * as schema from "./schema.ts";
import { sha256Hex } from "../lib/ids.ts";

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName?: string;
  /** Role every connection runs as (set at connect, so no query can forget it). */
  role?: string;
  /**
   * How long close() lets queries in flight finish before dropping the
   * connections (default 5 s). A pool closed only once its user is idle
   * wants it short: postgres.js counts a connection whose socket was reset
   * mid-query as still busy, so its end() otherwise always waits this long
   * after a connection was lost.
   */
  closeGraceSeconds?: number;
}

type Client = postgres.Sql<{}>;
type Runner = postgres.Sql<{}> | postgres.TransactionSql<{}>;

/** Connect to Postgres and check the connection works before returning. */
export async function openPostgres(opts: PostgresOptions): Promise<Db> {
  const stats: DbStats = { poolMax: opts.poolMax, queries: 0, errors: 0, inflight: 0 };
  const connect = (max: number): Client => {
    const c: Client = postgres(opts.url, {
      max,
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
    // jsonb and json parameters are JSON text (drizzle's and raw queries'
    // alike), sent as they are; objects are encoded once, as PGlite does.
    const jsonText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
    (c.options.serializers as Record<string, unknown>)["114"] = jsonText;
    (c.options.serializers as Record<string, unknown>)["3802"] = jsonText;
    return c;
  };
  const client = connect(opts.poolMax);
  const orm = makeOrm(client, client.options);
  try {
    await client`select 1`;
  } catch (err) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new Error(`db: cannot connect to ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err });
  }

  const sqlOver = (runner: Runner, makeRunnerOrm: () => Orm, inTransaction = false): Sql => {
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
        return (await runner.unsafe(text, (params ?? []).map(arrayParam) as never[], { prepare: true })) as unknown as T[];
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
      const cols = columns.join(",");
      // COPY FROM refuses tables under row-level security (every tenant
      // table), so rows are copied into a temporary table and moved on with
      // INSERT … SELECT, which the policies check.
      const staging = "pulse_copy_" + sha256Hex(`${table}(${cols})`).slice(0, 16);
      const load = async (tx: Runner) => {
        await tx.unsafe(`create temp table if not exists ${staging} on commit drop as select ${cols} from ${table} with no data`);
        const stream = await tx.unsafe(`copy pg_temp.${staging} (${cols}) from stdin`).writable();
        await new Promise<void>((resolve, reject) => {
          stream.on("error", reject);
          stream.on("finish", resolve);
          // One write: the rows are already in memory and COPY streams them in one go.
          stream.end(rows.map(copyLine).join(""));
        });
        await tx.unsafe(`with moved as (delete from pg_temp.${staging} returning ${cols}) insert into ${table} (${cols}) select ${cols} from moved`);
      };
      if (inTransaction) await load(runner);
      else await (runner as Client).begin(load);
    },
    };
  };

  const base = sqlOver(client, () => orm);
  const sessions = new Set<Client>();
  return {
    ...base,
    kind: "postgres",
    transaction: async (fn) => (await client.begin((tx) => fn(sqlOver(tx, () => makeOrm(tx, client.options), true)))) as never,
    // A one-connection client of its own rather than client.reserve():
    // postgres.js keeps writing to a reserved connection after it died (the
    // query never settles), while this client reconnects, so a leader can see
    // that its lock went with the old connection.
    session: async () => {
      const own = connect(1);
      try {
        await own`select 1`;
      } catch (err) {
        await own.end({ timeout: 1 }).catch(() => {});
        throw new Error(`db: cannot open a session on ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err });
      }
      sessions.add(own);
      const release = async () => {
        sessions.delete(own);
        await own.end({ timeout: 5 });
      };
      return { ...sqlOver(own, () => makeOrm(own, own.options)), release };
    },
    listen: async (channel, onPayload) => {
      const sub = await client.listen(checkChannel(channel), onPayload);
      return () => sub.unlisten();
    },
    notify: async (channel, payload) => {
      await client.notify(checkChannel(channel), payload);
    },
    stats: () => ({ ...stats }),
    close: async () => {
      await Promise.all([...sessions].map((s) => s.end({ timeout: 5 })));
      await client.end({ timeout: opts.closeGraceSeconds ?? 5 });
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

/**
 * postgres.js types a JS array by its first element, not as an array, so the
 * server refuses `$1::timestamptz[]`. Arrays go as Postgres array literals
 * (text), which the statement's cast turns into the right array type.
 */
function arrayParam(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return "{" + v.map(arrayElement).join(",") + "}";
}

function arrayElement(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  const s = v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
  // Most elements (numbers, times, ids) have nothing to escape: the regex is skipped for them.
  return '"' + (s.indexOf('"') < 0 && s.indexOf("\\") < 0 ? s : s.replace(/[\\"]/g, "\\$&")) + '"';
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
