// The audit log: who did what, to what, from where. Tenant-admins read their
// tenant's entries; operator-admins read everything. Every operator access to
// tenant data is recorded here too (action "operator.access").

import type { Db, Sql } from "../db/db.ts";
import { withCrossTenantRead, withSystem, withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Actor, type Caller } from "../lib/ctx.ts";
import { insertAudit, listAudit, type AuditFilter, type AuditRow } from "./store.ts";

export interface AuditEvent {
  tenantId: string | null;
  actor: Actor;
  action: string;
  target?: { kind: string; id: string };
  ip?: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

export interface AuditDeps {
  db: Db;
  clock: Clock;
}

/** Record an event in its own transaction (system scope, any tenant or none). */
export async function recordAudit(deps: AuditDeps, e: AuditEvent): Promise<void> {
  await withSystem(deps.db, (tx) => recordAuditIn(tx, deps.clock, e));
}

/** Record an event inside a transaction the caller already holds, so it commits or rolls back with the change. */
export async function recordAuditIn(tx: Sql, clock: Clock, e: AuditEvent): Promise<void> {
  await insertAudit(tx, {
    time: clock.now(),
    tenantId: e.tenantId,
    actorKind: e.actor.kind,
    actorId: e.actor.id,
    actorName: e.actor.name,
    action: e.action,
    targetKind: e.target?.kind,
    targetId: e.target?.id,
    ip: e.ip,
    requestId: e.requestId,
    details: e.details,
  });
}

/** Audit entries visible to the caller, newest first. */
export async function listAuditLog(deps: AuditDeps, caller: Caller, filter: AuditFilter): Promise<AuditRow[]> {
  if (caller.role === "operator-admin" || caller.role === "operator") {
    requirePermission(caller, "platform-read", "read the platform audit log");
    return withCrossTenantRead(deps.db, (tx) => listAudit(tx, filter));
  }
  requirePermission(caller, "admin", "read the audit log");
  const tenantId = caller.tenantId;
  if (!tenantId) return [];
  return withTenant(deps.db, { tenantId }, (tx) => listAudit(tx, { ...filter, tenantId }));
}

/** CSV of audit rows (RFC 4180 quoting). */
export function auditCsv(rows: AuditRow[]): string {
  const header = ["id", "time", "tenant_id", "actor_kind", "actor_name", "action", "target_kind", "target_id", "ip", "request_id", "details"];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
    // Cells starting with = + - @ are neutralised so spreadsheets do not run them as formulas.
    const safe = /^[=+\-@\t\r]/.test(s) ? "'" + s : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = rows.map((r) => [r.id, r.time, r.tenant_id, r.actor_kind, r.actor_name, r.action, r.target_kind, r.target_id, r.ip, r.request_id, r.details].map(cell).join(","));
  return [header.join(","), ...lines].join("\r\n") + "\r\n";
}
