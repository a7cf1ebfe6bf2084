// Reading what ingest refused: the quarantine log (newest first, filtered by
// reason, device and time) and the per-tenant, per-reason counts. People in a
// tenant see their tenant's rows; operators read across tenants (and the rows
// of tenants that do not exist), optionally narrowed to one.

import type { Db, Sql } from "../db/db.ts";
import { withCrossTenantRead, withTenant } from "../db/scope.ts";
import { can, requirePermission, type Caller } from "../lib/ctx.ts";
import { AppError, invalid } from "../lib/errors.ts";
import { REASONS, type Reason } from "./parse.ts";
import { listQuarantine, listRejectionCounts, type QuarantineFilter, type QuarantineRow, type RejectionCountRow } from "./quarantine-store.ts";

export interface QuarantineDeps {
  db: Db;
}

export interface QuarantineQuery {
  reason?: string;
  deviceId?: string;
  from?: Date;
  to?: Date;
  /** Operators only: one tenant's rows; "" = rows whose tenant is unknown. */
  tenantId?: string;
  cursor?: string;
  limit?: number;
}

export interface QuarantinedMessage {
  id: number;
  /** null: the message named a tenant that does not exist (operators only see these). */
  tenantId: string | null;
  deviceId: string | null;
  time: Date;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string | null;
  /** The start of the message as received, provision tokens masked. */
  payload: string | null;
}

export interface RejectionCount {
  tenantId: string;
  reason: string;
  count: number;
  lastAt: Date;
}

const MAX_LIMIT = 500;

const toMessage = (r: QuarantineRow): QuarantinedMessage => ({
  id: r.id,
  tenantId: r.tenant_id,
  deviceId: r.device_id,
  time: r.time,
  reason: r.reason,
  transport: r.transport,
  topic: r.topic,
  detail: r.detail,
  payload: r.payload,
});

/** Whether the caller reads across tenants (operators) rather than in their own. */
export function readsAcrossTenants(caller: Pick<Caller, "role">): boolean {
  return can(caller, "platform-read");
}

/** Run a read in the caller's scope: their tenant, or every tenant for operators. */
function inScope<T>(deps: QuarantineDeps, caller: Caller, fn: (tx: Sql) => Promise<T>): Promise<T> {
  if (readsAcrossTenants(caller)) return withCrossTenantRead(deps.db, fn);
  if (!caller.tenantId) throw new AppError("forbidden", "choose a tenant first (this account is not working in a tenant)");
  return withTenant(deps.db, { tenantId: caller.tenantId }, fn);
}

function tenantFilter(caller: Caller, wanted: string | undefined): string | undefined {
  if (wanted === undefined) return undefined;
  if (readsAcrossTenants(caller)) return wanted;
  if (wanted === "" || wanted === caller.tenantId) return undefined;
  throw new AppError("forbidden", "tenant_id: only operators choose a tenant; you see your own");
}

function checkReason(v: string | undefined): Reason | undefined {
  if (v === undefined || v === "") return undefined;
  if (!(REASONS as readonly string[]).includes(v)) throw invalid("reason", `reason: one of ${REASONS.join(", ")}`);
  return v as Reason;
}

function decodeCursor(cursor: string): number {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    v = undefined;
  }
  const id = (v as { before?: unknown } | undefined)?.before;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) throw invalid("cursor", "cursor: not a cursor this API issued");
  return id;
}

/** Rejected messages the caller may see, newest first, a page at a time. */
export async function listQuarantined(deps: QuarantineDeps, caller: Caller, q: QuarantineQuery = {}): Promise<{ items: QuarantinedMessage[]; nextCursor: string | null }> {
  requirePermission(caller, "read", "see rejected messages");
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 50), 1), MAX_LIMIT);
  if (q.from && Number.isNaN(q.from.getTime())) throw invalid("from", "from: not a time");
  if (q.to && Number.isNaN(q.to.getTime())) throw invalid("to", "to: not a time");
  if (q.from && q.to && q.to <= q.from) throw invalid("to", "to: must be after from");
  const deviceId = q.deviceId?.trim() || undefined;
  if (deviceId && deviceId.length > 200) throw invalid("device_id", "device_id: at most 200 characters");
  const filter: QuarantineFilter = {
    tenantId: tenantFilter(caller, q.tenantId),
    reason: checkReason(q.reason),
    deviceId,
    from: q.from,
    to: q.to,
    beforeId: q.cursor ? decodeCursor(q.cursor) : undefined,
    limit,
  };
  const rows = await inScope(deps, caller, (tx) => listQuarantine(tx, filter));
  const last = rows.at(-1);
  return {
    items: rows.map(toMessage),
    nextCursor: rows.length === limit && last ? Buffer.from(JSON.stringify({ before: last.id })).toString("base64url") : null,
  };
}

/** How many messages were refused per tenant and reason since the start (the log keeps only the newest). */
export async function listRejectionCountsOf(deps: QuarantineDeps, caller: Caller, q: { tenantId?: string } = {}): Promise<RejectionCount[]> {
  requirePermission(caller, "read", "see rejected messages");
  const tenantId = tenantFilter(caller, q.tenantId) || undefined;
  const rows = await inScope(deps, caller, (tx) => listRejectionCounts(tx, tenantId));
  return rows.map((r: RejectionCountRow) => ({ tenantId: r.tenant_id, reason: r.reason, count: r.count, lastAt: r.last_at }));
}

/** Counts summed per reason (across the tenants in the list), largest first. */
export function countsByReason(counts: readonly RejectionCount[]): Array<{ reason: string; count: number; lastAt: Date }> {
  const by = new Map<string, { reason: string; count: number; lastAt: Date }>();
  for (const c of counts) {
    const e = by.get(c.reason);
    if (!e) by.set(c.reason, { reason: c.reason, count: c.count, lastAt: c.lastAt });
    else {
      e.count += c.count;
      if (c.lastAt > e.lastAt) e.lastAt = c.lastAt;
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}
