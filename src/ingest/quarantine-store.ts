// SQL for reading the quarantine log and the per-reason rejection counts.
// Runs in whatever scope the caller opened: a tenant's (row-level security
// shows only its rows) or the operators' cross-tenant read, where rows of
// unknown tenants (tenant_id null) are visible too.

import type { Sql } from "../db/db.ts";

export interface QuarantineRow {
  id: number;
  tenant_id: string | null;
  device_id: string | null;
  time: Date;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string | null;
  payload: string | null;
}

export interface QuarantineFilter {
  /** Operators only narrow by tenant; "" means rows of no known tenant. */
  tenantId?: string;
  reason?: string;
  deviceId?: string;
  from?: Date;
  to?: Date;
  /** Keyset: rows older than this id. */
  beforeId?: number;
  limit: number;
}

/** Quarantined messages, newest first. */
export async function listQuarantine(sql: Sql, f: QuarantineFilter): Promise<QuarantineRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (p: string) => string, v: unknown) => {
    params.push(v);
    where.push(cond(`$${params.length}`));
  };
  if (f.tenantId === "") where.push("tenant_id is null");
  else if (f.tenantId !== undefined) add((p) => `tenant_id = ${p}`, f.tenantId);
  if (f.reason) add((p) => `reason = ${p}`, f.reason);
  if (f.deviceId) add((p) => `device_id = ${p}`, f.deviceId);
  if (f.from) add((p) => `time >= ${p}`, f.from);
  if (f.to) add((p) => `time < ${p}`, f.to);
  if (f.beforeId !== undefined) add((p) => `id < ${p}::bigint`, f.beforeId);
  params.push(f.limit);
  const rows = await sql.query<QuarantineRow & { id: number | string }>(
    `select id, tenant_id, device_id, time, reason, transport, topic, detail, payload from quarantine
      ${where.length ? "where " + where.join(" and ") : ""} order by id desc limit $${params.length}`,
    params,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), time: new Date(r.time) }));
}

export interface RejectionCountRow {
  tenant_id: string;
  reason: string;
  count: number;
  last_at: Date;
}

/** Every (tenant, reason) count in scope, optionally of one tenant. */
export async function listRejectionCounts(sql: Sql, tenantId?: string): Promise<RejectionCountRow[]> {
  const rows = await sql.query<{ tenant_id: string; reason: string; count: number | string; last_at: Date | string }>(
    `select tenant_id, reason, count, last_at from rejection_counts where ($1::text is null or tenant_id = $1) order by tenant_id, reason`,
    [tenantId ?? null],
  );
  return rows.map((r) => ({ tenant_id: r.tenant_id, reason: r.reason, count: Number(r.count), last_at: new Date(r.last_at) }));
}
