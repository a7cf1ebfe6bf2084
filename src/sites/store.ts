// SQL for sites (tenant table, under row-level security: every query sees
// only the tenant in scope).
import type { Sql } from "../db/db.ts";

export interface SiteRow {
  tenant_id: string;
  id: string;
  name: string;
  timezone: string;
  lat: number | null;
  lng: number | null;
  address: string | null;
  created_at: Date;
  updated_at: Date;
}

export type SiteWithCount = SiteRow & { device_count: number };

export interface NewSite {
  tenantId: string;
  id: string;
  name: string;
  timezone: string;
  lat: number | null;
  lng: number | null;
  address: string | null;
  now: Date;
}

/** The new row, or undefined when the id is taken. */
export async function insertSite(sql: Sql, s: NewSite): Promise<SiteRow | undefined> {
  const [row] = await sql.query<SiteRow>(
    `insert into sites (tenant_id, id, name, timezone, lat, lng, address, created_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $8) on conflict (tenant_id, id) do nothing returning *`,
    [s.tenantId, s.id, s.name, s.timezone, s.lat, s.lng, s.address, s.now],
  );
  return row;
}

const WITH_COUNT = `select s.*, coalesce(c.n, 0)::int as device_count
  from sites s left join (select site_id, count(*) as n from devices group by site_id) c on c.site_id = s.id`;

export async function findSite(sql: Sql, id: string): Promise<SiteWithCount | undefined> {
  const [row] = await sql.query<SiteWithCount>(`${WITH_COUNT} where s.id = $1`, [id]);
  return row;
}

/** Sites in id order after `afterId`, with how many devices (any status) each holds. */
export async function listSites(sql: Sql, opts: { afterId?: string; limit: number; q?: string }): Promise<SiteWithCount[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.afterId !== undefined) {
    params.push(opts.afterId);
    where.push(`s.id > $${params.length}`);
  }
  if (opts.q) {
    params.push("%" + opts.q.replace(/[\\%_]/g, "\\$&") + "%");
    where.push(`(s.id ilike $${params.length} or s.name ilike $${params.length})`);
  }
  params.push(opts.limit);
  return sql.query<SiteWithCount>(`${WITH_COUNT} ${where.length ? "where " + where.join(" and ") : ""} order by s.id limit $${params.length}`, params);
}

export async function updateSite(
  sql: Sql,
  id: string,
  patch: Partial<Pick<SiteRow, "name" | "timezone" | "lat" | "lng" | "address">>,
  now: Date,
): Promise<SiteRow | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [id, now];
  for (const [k, v] of Object.entries(patch)) {
    params.push(v);
    sets.push(`${k} = $${params.length}`);
  }
  const [row] = await sql.query<SiteRow>(`update sites set ${[...sets, "updated_at = $2"].join(", ")} where id = $1 returning *`, params);
  return row;
}

export async function countSiteDevices(sql: Sql, id: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>("select count(*)::int as n from devices where site_id = $1", [id]);
  return row?.n ?? 0;
}

export async function deleteSite(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql.query("delete from sites where id = $1 returning id", [id]);
  return rows.length === 1;
}

/** Which of these site ids exist. */
export async function existingSiteIds(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await sql.query<{ id: string }>("select id from sites where id = any($1::text[])", [ids]);
  return new Set(rows.map((r) => r.id));
}

/** Create the sites that do not exist yet, named by their id; returns the ids created. */
export async function insertMissingSites(sql: Sql, tenantId: string, ids: readonly string[], now: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await sql.query<{ id: string }>(
    `insert into sites (tenant_id, id, name, created_at, updated_at)
     select $1, i, i, $3, $3 from unnest($2::text[]) as i
     on conflict (tenant_id, id) do nothing returning id`,
    [tenantId, ids, now],
  );
  return rows.map((r) => r.id);
}
