// Our own small migrator: numbered SQL files, applied in order, one
// transaction each, recorded in schema_migrations, under an advisory lock so
// that several nodes starting at once apply each file exactly once. It runs as
// the connecting (owner) role, before the app switches to pulse_app.

import type { Db, Sql } from "./db.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import { sha256Hex } from "../lib/ids.ts";

// Any fixed 64-bit number, the same on every node.
const MIGRATION_LOCK = 7_202_611_270;

export interface MigrateOptions {
  /** Create telemetry as a TimescaleDB hypertable (detected by the caller). */
  timescale: boolean;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  migrations?: readonly Migration[];
}

export interface MigrateResult {
  applied: string[];
  current: number;
}

/** Bring the schema up to date; returns the files it applied. */
export async function migrate(db: Db, opts: MigrateOptions): Promise<MigrateResult> {
  const migrations = opts.migrations ?? MIGRATIONS;
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.exec(`create table if not exists schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });

  const applied: string[] = [];
  for (const m of migrations) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const done = await tx.query<{ checksum: string }>("select checksum from schema_migrations where version = $1", [m.version]);
      const checksum = sha256Hex(m.sql);
      if (done[0]) {
        if (done[0].checksum !== checksum) {
          throw new Error(`migrate: ${m.name} was changed after it was applied; migrations are append-only, add a new file instead`);
        }
        return false;
      }
      await tx.query("select set_config('pulse.timescale', $1, true)", [opts.timescale ? "on" : "off"]);
      try {
        await tx.exec(m.sql);
      } catch (err) {
        throw new Error(`migrate: ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await grantToApp(tx);
      await tx.query("insert into schema_migrations (version, name, checksum) values ($1, $2, $3)", [m.version, m.name, checksum]);
      return true;
    });
    if (didApply) {
      applied.push(m.name);
      opts.log?.("migration applied", { migration: m.name });
    }
  }

  const [row] = await db.query<{ v: number | null }>("select max(version) as v from schema_migrations");
  const current = row?.v ?? 0;
  const known = migrations.at(-1)?.version ?? 0;
  if (current > known) {
    throw new Error(`migrate: the database is at migration ${current} but this Pulse knows only up to ${known}; run a newer Pulse`);
  }
  return { applied, current };
}

/**
 * pulse_app may read and write every table but schema_migrations, and never a
 * partition directly (partitions bypass the parent's row-level security).
 */
async function grantToApp(tx: Sql): Promise<void> {
  await tx.exec(`
    DO $$
    DECLARE t record;
    BEGIN
      FOR t IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                 AND c.relname <> 'schema_migrations'
      LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO pulse_app', t.name);
      END LOOP;
    END $$;
    GRANT SELECT ON schema_migrations TO pulse_app;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO pulse_app;
  `);
}

/** Applied and pending migrations, for `pulse migrate --status` and `pulse status`. */
export async function migrationStatus(db: Sql): Promise<{ current: number; pending: string[] }> {
  const [exists] = await db.query<{ t: string | null }>("select to_regclass('schema_migrations')::text as t");
  const rows = exists?.t ? await db.query<{ version: number }>("select version from schema_migrations") : [];
  const done = new Set(rows.map((r) => r.version));
  return { current: Math.max(0, ...done), pending: MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => m.name) };
}
