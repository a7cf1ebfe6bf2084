// SQL for reading telemetry (downsampled series, raw export, latest values)
// and the metric catalog. Every query runs in a tenant scope and is bounded by
// a device and a time range, so it uses the (tenant, device, time) index and
// the partitions of that range only.

import type { Sql } from "../db/db.ts";

export interface CatalogRow {
  tenant_id: string;
  name: string;
  kind: "number" | "boolean" | "string";
  unit: string | null;
  display_name: string | null;
  multiplier: number | null;
  offset: number | null;
  normalized_unit: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

export async function deviceExists(sql: Sql, tenantId: string, deviceId: string): Promise<boolean> {
  const rows = await sql.query("select 1 from devices where tenant_id = $1 and id = $2", [tenantId, deviceId]);
  return rows.length === 1;
}

export interface BucketRow {
  bucket: Date;
  avg: number | null;
  min: number | null;
  max: number | null;
  n: number;
  last: unknown;
}

/**
 * One metric in buckets of `bucketSeconds`: avg/min/max of numbers and the
 * last value of anything (booleans and strings are shown as last values).
 */
export async function bucketSeries(sql: Sql, q: { tenantId: string; deviceId: string; metric: string; from: Date; to: Date; bucketSeconds: number }): Promise<BucketRow[]> {
  return sql.query<BucketRow>(
    `select date_bin(make_interval(secs => $6), time, timestamptz '2000-01-01') as bucket,
            avg((metrics->>$3)::float8) filter (where jsonb_typeof(metrics->$3) = 'number') as avg,
            min((metrics->>$3)::float8) filter (where jsonb_typeof(metrics->$3) = 'number') as min,
            max((metrics->>$3)::float8) filter (where jsonb_typeof(metrics->$3) = 'number') as max,
            count(*) as n,
            (array_agg(metrics->$3 order by time desc))[1] as last
       from telemetry
      where tenant_id = $1 and device_id = $2 and time >= $4 and time < $5 and metrics ? $3
      group by 1 order by 1`,
    [q.tenantId, q.deviceId, q.metric, q.from, q.to, q.bucketSeconds],
  );
}

export interface RawRow {
  time: Date;
  metrics: Record<string, unknown>;
}

/**
 * Raw rows in a stable order, a page at a time: from `since` on, skipping the
 * first `skip` rows at exactly `since` (rows already returned that share the
 * page boundary's timestamp).
 */
export async function rawRows(sql: Sql, q: { tenantId: string; deviceId: string; from: Date; to: Date; since?: Date; skip: number; limit: number }): Promise<RawRow[]> {
  const rows = await sql.query<RawRow>(
    `select time, metrics from telemetry
      where tenant_id = $1 and device_id = $2 and time >= greatest($3, coalesce($5::timestamptz, $3)) and time < $4
      order by time, metrics::text limit $6`,
    [q.tenantId, q.deviceId, q.from, q.to, q.since ?? null, q.limit + q.skip],
  );
  return rows.slice(q.skip);
}

export async function metricNamesInRange(sql: Sql, q: { tenantId: string; deviceId: string; from: Date; to: Date }): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `select distinct jsonb_object_keys(metrics) as name from telemetry
      where tenant_id = $1 and device_id = $2 and time >= $3 and time < $4 order by 1`,
    [q.tenantId, q.deviceId, q.from, q.to],
  );
  return rows.map((r) => r.name);
}

export async function latestState(sql: Sql, tenantId: string, deviceId: string): Promise<{ last_seen_at: Date | null; last_telemetry_at: Date | null; last_metrics: Record<string, unknown> } | undefined> {
  const [row] = await sql.query<{ last_seen_at: Date | null; last_telemetry_at: Date | null; last_metrics: Record<string, unknown> }>(
    "select last_seen_at, last_telemetry_at, last_metrics from device_state where tenant_id = $1 and device_id = $2",
    [tenantId, deviceId],
  );
  return row;
}

export async function listCatalog(sql: Sql): Promise<CatalogRow[]> {
  return sql.query<CatalogRow>("select * from metric_catalog order by name");
}

export async function findCatalog(sql: Sql, tenantId: string, names: string[]): Promise<CatalogRow[]> {
  return sql.query<CatalogRow>("select * from metric_catalog where tenant_id = $1 and name = any($2::text[])", [tenantId, names]);
}

export async function updateCatalog(
  sql: Sql,
  tenantId: string,
  name: string,
  patch: Partial<Pick<CatalogRow, "unit" | "display_name" | "multiplier" | "offset" | "normalized_unit">>,
): Promise<CatalogRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [tenantId, name];
  for (const [k, v] of Object.entries(patch)) {
    params.push(v);
    sets.push(`"${k}" = $${params.length}`);
  }
  if (!sets.length) return (await findCatalog(sql, tenantId, [name]))[0];
  const [row] = await sql.query<CatalogRow>(`update metric_catalog set ${sets.join(", ")} where tenant_id = $1 and name = $2 returning *`, params);
  return row;
}
