// TimescaleDB, when the server has it: telemetry becomes a hypertable with
// compression and retention policies. Detected at start; config can turn it off.

import type { Db, Sql } from "./db.ts";
import { asOwner } from "./scope.ts";

export interface TimescaleInfo {
  /** The extension can be created on this server. */
  available: boolean;
  installed: boolean;
  /** Migrations create telemetry as a hypertable. */
  use: boolean;
  /** telemetry is a hypertable now. */
  hypertable: boolean;
}

export async function detectTimescale(sql: Sql, allowed: boolean): Promise<TimescaleInfo> {
  const [row] = await sql.query<{ available: boolean; installed: boolean }>(`
    select exists (select 1 from pg_available_extensions where name = 'timescaledb') as available,
           exists (select 1 from pg_extension where extname = 'timescaledb') as installed`);
  const available = row?.available ?? false;
  const installed = row?.installed ?? false;
  let hypertable = false;
  if (installed) {
    const [h] = await sql.query<{ h: boolean }>(
      "select exists (select 1 from timescaledb_information.hypertables where hypertable_name = 'telemetry') as h",
    );
    hypertable = h?.h ?? false;
  }
  return { available, installed, use: allowed && (available || installed), hypertable };
}

/** Make the hypertable's compression and retention follow config (idempotent, run at start). */
export async function applyTimescalePolicies(db: Db, retentionDays: number, compressAfterDays: number): Promise<void> {
  await asOwner(db, async (tx) => {
    await tx.exec(`ALTER TABLE telemetry SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant_id, device_id', timescaledb.compress_orderby = 'time DESC')`);
    await tx.query("select remove_compression_policy('telemetry', if_exists => true)");
    await tx.query("select add_compression_policy('telemetry', make_interval(days => $1::int))", [compressAfterDays]);
    await tx.query("select remove_retention_policy('telemetry', if_exists => true)");
    await tx.query("select add_retention_policy('telemetry', make_interval(days => $1::int))", [retentionDays]);
  });
}
