// Opening the database Pulse runs on: embedded PGlite in data_dir, or Postgres
// when database.url is set. Migrations run first, as the connecting (owner)
// role; the returned Db then runs everything as pulse_app, the role row-level
// security applies to.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import type { Db } from "./db.ts";
import { lockDataDir } from "./lockfile.ts";
import { migrate, type MigrateResult } from "./migrate.ts";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import { detectTimescale, type TimescaleInfo } from "./timescale.ts";

export const APP_ROLE = "pulse_app";

export interface DbInfo {
  kind: Db["kind"];
  serverVersion: string;
  timescale: TimescaleInfo;
  migrations: MigrateResult;
}

export interface OpenedDb {
  db: Db;
  info: DbInfo;
}

export interface OpenDatabaseOptions {
  config: Config;
  log: Logger;
  /** Tests start PGlite from a dumped, already migrated template. */
  pgliteTemplate?: Blob;
  /** Tests run PGlite in memory. */
  inMemory?: boolean;
}

/** Open, migrate, and switch to the app role. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<OpenedDb> {
  const { config, log } = opts;
  const url = config["database.url"];
  if (url) {
    const common = { url, statementTimeoutMs: config["database.statement_timeout_ms"] };
    // No statement timeout while migrating: a long migration, or a node
    // waiting on the migration lock while another one migrates, must not be cut off.
    const owner = await openPostgres({ ...common, statementTimeoutMs: 0, poolMax: 1, applicationName: "pulse-migrate" });
    let timescale: TimescaleInfo;
    let migrations: MigrateResult;
    try {
      timescale = await detectTimescale(owner, config["database.timescale"] === "auto");
      migrations = await migrate(owner, { timescale: timescale.use, log: (m, f) => log.info(m, f) });
      timescale = await detectTimescale(owner, config["database.timescale"] === "auto");
    } finally {
      await owner.close();
    }
    const db = await openPostgres({ ...common, poolMax: config["database.pool_max"], role: APP_ROLE });
    return { db, info: { kind: "postgres", serverVersion: await serverVersion(db), timescale, migrations } };
  }

  const release = opts.inMemory ? () => {} : lockDataDir(ensureDir(config.data_dir));
  let db: Db | undefined;
  try {
    db = await openPglite({
      dataDir: opts.inMemory ? undefined : join(config.data_dir, "pg"),
      loadDataDir: opts.pgliteTemplate,
      onClose: release,
    });
    const migrations = await migrate(db, { timescale: false, log: (m, f) => log.info(m, f) });
    // One connection: switching its role once covers every later query.
    await db.exec(`set role ${APP_ROLE}`);
    const timescale: TimescaleInfo = { available: false, installed: false, use: false, hypertable: false };
    return { db, info: { kind: "pglite", serverVersion: await serverVersion(db), timescale, migrations } };
  } catch (err) {
    if (db) await db.close().catch(() => {});
    else release();
    throw err;
  }
}

/** Migrate without starting anything (`pulse migrate`). */
export async function migrateOnly(opts: OpenDatabaseOptions): Promise<DbInfo> {
  const { db, info } = await openDatabase(opts);
  await db.close();
  return info;
}

async function serverVersion(db: Db): Promise<string> {
  const [row] = await db.query<{ v: string }>("select current_setting('server_version') as v");
  return row?.v ?? "unknown";
}

function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
