// Embedded Postgres (PGlite, WASM) in data_dir: the default database, so
// `pulse serve` needs nothing else installed. It has one connection and runs on
// the JavaScript thread, so its queries are serialized by PGlite itself.

import { PGlite, types, type Transaction } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { mkdirSync } from "node:fs";
import { checkChannel, type Db, type DbStats, type Orm, type Sql } from "./db.ts";
import { loadPgliteAssets } from "./pglite-assets.ts";
import * as schema from "./schema.ts";

// Same parsing as the Postgres driver: counts as numbers, jsonb params passed
// as JSON text by callers (never double-encoded).
const parsers = { [types.INT8]: (v: string) => Number(v) };
const jsonText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const serializers = { [types.JSON]: jsonText, [types.JSONB]: jsonText };

// PGlite binds at most 65535 parameters a statement.
const MAX_PARAMS = 60_000;

export interface PgliteOptions {
  /** Directory of the database; undefined = in memory (tests). */
  dataDir?: string;
  /** A dumped data directory to start from (tests clone a migrated template). */
  loadDataDir?: Blob;
  /** Called after the database closed (releases the data dir lock). */
  onClose?: () => void;
}

/** Open (creating on first use) the embedded database. */
export async function openPglite(opts: PgliteOptions): Promise<Db> {
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const assets = await loadPgliteAssets();
  let pg: PGlite;
  try {
    pg = await PGlite.create({ ...assets, dataDir: opts.dataDir, loadDataDir: opts.loadDataDir, parsers, serializers });
  } catch (err) {
    throw new Error(`db: cannot open the embedded database in ${opts.dataDir ?? "memory"}`, { cause: err });
  }
  return wrapPglite(pg, opts.onClose ?? (() => {}));
}

function wrapPglite(pg: PGlite, onClose: () => void): Db {
  const stats: DbStats = { poolMax: 1, queries: 0, errors: 0, inflight: 0 };

  const sqlOver = (client: PGlite | Transaction): Sql => {
    const query = async <T>(text: string, params?: readonly unknown[]): Promise<T[]> => {
      stats.queries++;
      stats.inflight++;
      try {
        return (await client.query<T>(text, params as unknown[])).rows;
      } catch (err) {
        stats.errors++;
        throw err;
      } finally {
        stats.inflight--;
      }
    };
    let orm: Orm | undefined;
    return {
      // Built on first use: most transactions (the ingest writer's) never need drizzle.
      get orm() {
        return (orm ??= drizzle(client as PGlite, { schema }) as unknown as Orm);
      },
      query,
      exec: async (text) => {
        await client.exec(text);
      },
      copyRows: async (table, columns, rows) => {
        const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
        for (let i = 0; i < rows.length; i += per) {
          const params: unknown[] = [];
          const tuples = rows.slice(i, i + per).map((row) => "(" + row.map((v) => (params.push(v), `$${params.length}`)).join(",") + ")");
          await query(`insert into ${table} (${columns.join(",")}) values ${tuples.join(",")}`, params);
        }
      },
    };
  };

  const base = sqlOver(pg);
  return {
    ...base,
    kind: "pglite",
    transaction: (fn) => pg.transaction((tx) => fn(sqlOver(tx))),
    // One connection only: a session is the database itself, and releasing it does nothing.
    session: async () => ({ ...base, release: async () => {} }),
    listen: async (channel, onPayload) => pg.listen(checkChannel(channel), onPayload),
    notify: async (channel, payload) => {
      await base.query("select pg_notify($1, $2)", [checkChannel(channel), payload]);
    },
    stats: () => ({ ...stats }),
    close: async () => {
      if (!pg.closed) await pg.close();
      onClose();
    },
    dump: () => pg.dumpDataDir("none"),
  };
}
