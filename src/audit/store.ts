// SQL for the audit log. Rows are only ever inserted by the app.
import type { Sql } from "../db/db.ts";

export interface AuditRow {
  id: number;
  time: Date;
  tenant_id: string | null;
  actor_kind: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export interface NewAudit {
  tenantId: string | null;
  actorKind: string;
  actorId: string | null;
  actorName: string;
  action: string;
  targetKind?: string | null;
  targetId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
  time: Date;
}

export async function insertAudit(sql: Sql, a: NewAudit): Promise<void> {
  await sql.query(
    `insert into audit_log (time, tenant_id, actor_kind, actor_id, actor_name, action, target_kind, target_id, ip, request_id, details)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [a.time, a.tenantId, a.actorKind, a.actorId, a.actorName, a.action, a.targetKind ?? null, a.targetId ?? null, a.ip ?? null, a.requestId ?? null, JSON.stringify(a.details ?? {})],
  );
}

export interface AuditFilter {
  /** Restrict to one tenant (operators); tenant-scoped reads are restricted by RLS anyway. */
  tenantId?: string;
  /** Action prefix, e.g. "auth." or "user.role_changed". */
  action?: string;
  actor?: string;
  from?: Date;
  to?: Date;
  /** Rows older than this id (pagination, newest first). */
  beforeId?: number;
  limit: number;
}

export async function listAudit(sql: Sql, f: AuditFilter): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replace("?", `$${params.length}`));
  };
  if (f.tenantId) add("tenant_id = ?", f.tenantId);
  if (f.action) add("action like ?", f.action.replace(/[\\%_]/g, "\\$&") + "%");
  if (f.actor) add("actor_name ilike ?", "%" + f.actor.replace(/[\\%_]/g, "\\$&") + "%");
  if (f.from) add("time >= ?", f.from);
  if (f.to) add("time < ?", f.to);
  if (f.beforeId) add("id < ?", f.beforeId);
  params.push(f.limit);
  return sql.query<AuditRow>(
    `select * from audit_log ${where.length ? "where " + where.join(" and ") : ""} order by id desc limit $${params.length}`,
    params,
  );
}
