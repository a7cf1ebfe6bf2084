// Tenants: create, rename, suspend, resume, delete (soft, with a grace period
// during which it can be restored), and the purge that ends the grace period.
// Operator-admins manage tenants; operators read them; tenant users see their own.

import { recordAuditIn } from "../audit/service.ts";
import type { Db, Sql } from "../db/db.ts";
import { asOwner, withCrossTenantRead, withSystem } from "../db/scope.ts";
import { DEVICES_CHANNEL, notifyChange } from "../db/bus.ts";
import type { Clock } from "../lib/clock.ts";
import { can, requirePermission, SYSTEM_ACTOR, type Caller } from "../lib/ctx.ts";
import { AppError, conflict, invalid, notFound } from "../lib/errors.ts";
import { requireSlug, requireText, requireTimeZone } from "../lib/validate.ts";
import { findTenant, insertTenant, listTenants as listTenantRows, purgeDeletedTenants, updateTenant, type TenantRow } from "./store.ts";

export interface TenantDeps {
  db: Db;
  clock: Clock;
}

export const DELETE_GRACE_DAYS = 30;

export interface Tenant {
  id: string;
  name: string;
  status: TenantRow["status"];
  timezone: string;
  createdAt: Date;
  suspendedAt: Date | null;
  deletedAt: Date | null;
  purgeAfter: Date | null;
  /** Default seconds between device heartbeats (a device may set its own). */
  heartbeatSeconds: number;
  /** Most devices the tenant may have (decommissioned ones do not count); null = no limit. */
  deviceLimit: number | null;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  status: r.status,
  timezone: r.timezone,
  createdAt: r.created_at,
  suspendedAt: r.suspended_at,
  deletedAt: r.deleted_at,
  purgeAfter: r.purge_after,
  heartbeatSeconds: r.heartbeat_seconds,
  deviceLimit: r.device_limit,
});

const audit = (caller: Caller, tenantId: string, action: string, details?: Record<string, unknown>) => ({
  tenantId,
  actor: caller.actor,
  action,
  target: { kind: "tenant", id: tenantId },
  ip: caller.ip,
  requestId: caller.requestId,
  details,
});

/** Create a tenant (operator-admin). */
export async function createTenant(deps: TenantDeps, caller: Caller, input: { id: unknown; name?: unknown; timezone?: unknown }): Promise<Tenant> {
  requirePermission(caller, "platform-admin", "create tenants");
  const id = requireSlug("id", input.id);
  const name = input.name === undefined ? id : requireText("name", input.name);
  const timezone = input.timezone === undefined ? "UTC" : requireTimeZone("timezone", input.timezone);
  return withSystem(deps.db, async (tx) => {
    const row = await insertTenant(tx, { id, name, timezone, now: deps.clock.now() });
    if (!row) throw conflict(`tenant ${id} already exists`, "id");
    await recordAuditIn(tx, deps.clock, audit(caller, id, "tenant.created", { name, timezone }));
    return toTenant(row);
  });
}

/** Tenants the caller may see: all for operators, their own tenant otherwise. */
export async function listTenants(deps: TenantDeps, caller: Caller, opts: { includeDeleted?: boolean } = {}): Promise<Tenant[]> {
  if (can(caller, "platform-read")) {
    return (await withCrossTenantRead(deps.db, (tx) => listTenantRows(tx, { includeDeleted: opts.includeDeleted ?? false }))).map(toTenant);
  }
  if (!caller.tenantId) return [];
  return (await withSystem(deps.db, (tx) => listTenantRows(tx, { includeDeleted: false, ids: [caller.tenantId!] }))).map(toTenant);
}

/** One tenant; 404 when the caller may not see it. */
export async function getTenant(deps: TenantDeps, caller: Caller, id: string): Promise<Tenant> {
  if (!can(caller, "platform-read") && caller.tenantId !== id) throw notFound(`tenant ${id}`);
  const row = await withSystem(deps.db, (tx) => findTenant(tx, id));
  if (!row || (row.status === "DELETED" && !can(caller, "platform-read"))) throw notFound(`tenant ${id}`);
  return toTenant(row);
}

/**
 * Rename, change the time zone or the devices' default heartbeat (operator-admin,
 * or the tenant's own admin); the device limit only an operator-admin sets.
 */
export async function updateTenantDetails(
  deps: TenantDeps,
  caller: Caller,
  id: string,
  input: { name?: unknown; timezone?: unknown; heartbeatSeconds?: unknown; deviceLimit?: unknown },
): Promise<Tenant> {
  if (!(can(caller, "platform-admin") || (caller.tenantId === id && can(caller, "admin")))) {
    if (caller.tenantId !== id && !can(caller, "platform-read")) throw notFound(`tenant ${id}`);
    throw new AppError("forbidden", "only an operator-admin or this tenant's admin may change it");
  }
  const patch: { name?: string; timezone?: string; heartbeat_seconds?: number; device_limit?: number | null } = {};
  if (input.name !== undefined) patch.name = requireText("name", input.name);
  if (input.timezone !== undefined) patch.timezone = requireTimeZone("timezone", input.timezone);
  if (input.heartbeatSeconds !== undefined) {
    const n = input.heartbeatSeconds;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 5 || n > 86_400) throw invalid("heartbeat_seconds", "heartbeat_seconds: a whole number of seconds from 5 to 86400");
    patch.heartbeat_seconds = n;
  }
  if (input.deviceLimit !== undefined) {
    requirePermission(caller, "platform-admin", "change a tenant's device limit");
    const n = input.deviceLimit;
    if (n !== null && (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 10_000_000)) throw invalid("device_limit", "device_limit: a whole number from 0 to 10000000, or null for no limit");
    patch.device_limit = n;
  }
  return withSystem(deps.db, async (tx) => {
    const row = await updateTenant(tx, id, patch, deps.clock.now());
    if (!row || row.status === "DELETED") throw notFound(`tenant ${id}`);
    // Ingest caches the device limit: every node drops the tenant's entries at commit.
    if (patch.device_limit !== undefined || patch.heartbeat_seconds !== undefined) await notifyChange(tx, DEVICES_CHANNEL, id);
    await recordAuditIn(tx, deps.clock, audit(caller, id, "tenant.updated", patch));
    return toTenant(row);
  });
}

/** A tenant's status and device settings, read inside a transaction the caller holds (devices check limits with it). */
export async function tenantDeviceSettingsIn(tx: Sql, id: string): Promise<Pick<Tenant, "status" | "heartbeatSeconds" | "deviceLimit"> | undefined> {
  const row = await findTenant(tx, id);
  return row && { status: row.status, heartbeatSeconds: row.heartbeat_seconds, deviceLimit: row.device_limit };
}

type Transition = "suspend" | "resume" | "delete" | "restore";

/** Suspend (sign-ins and ingest refused), resume, soft-delete (purged after the grace period) or restore. */
export async function changeTenantStatus(deps: TenantDeps, caller: Caller, id: string, transition: Transition): Promise<Tenant> {
  requirePermission(caller, "platform-admin", `${transition} tenants`);
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const row = await findTenant(tx, id);
    if (!row) throw notFound(`tenant ${id}`);
    const allowed: Record<Transition, TenantRow["status"][]> = {
      suspend: ["ACTIVE"],
      resume: ["SUSPENDED"],
      delete: ["ACTIVE", "SUSPENDED"],
      restore: ["DELETED"],
    };
    if (!allowed[transition].includes(row.status)) throw conflict(`tenant ${id} is ${row.status}; cannot ${transition} it`, "status");
    const patch =
      transition === "suspend"
        ? { status: "SUSPENDED" as const, suspended_at: now }
        : transition === "resume"
          ? { status: "ACTIVE" as const, suspended_at: null }
          : transition === "delete"
            ? { status: "DELETED" as const, deleted_at: now, purge_after: new Date(now.getTime() + DELETE_GRACE_DAYS * 86_400_000) }
            : { status: (row.suspended_at ? "SUSPENDED" : "ACTIVE") as TenantRow["status"], deleted_at: null, purge_after: null };
    const updated = (await updateTenant(tx, id, patch, now))!;
    // Ingest caches the tenant's status: every node drops it at commit.
    await notifyChange(tx, DEVICES_CHANNEL, id);
    await recordAuditIn(tx, deps.clock, audit(caller, id, `tenant.${transition === "delete" ? "deleted" : transition === "restore" ? "restored" : transition === "suspend" ? "suspended" : "resumed"}`));
    return toTenant(updated);
  });
}

/**
 * Remove tenants whose deletion grace period has passed, with their audit
 * entries (leader job); each purge is recorded as a platform audit entry.
 */
export async function purgeTenants(deps: TenantDeps): Promise<string[]> {
  // As the owner: only the owner may delete audit entries. One transaction, so the
  // tenant, its audit trail and the record of the purge go (or stay) together.
  return asOwner(deps.db, async (tx) => {
    const purged = await purgeDeletedTenants(tx, deps.clock.now());
    for (const t of purged) {
      await recordAuditIn(tx, deps.clock, {
        tenantId: null,
        actor: SYSTEM_ACTOR,
        action: "tenant.purged",
        target: { kind: "tenant", id: t.id },
        details: { name: t.name, deleted_at: t.deleted_at?.toISOString() ?? null, deleted_by: t.deleted_by, audit_entries_removed: t.audit_entries },
      });
    }
    return purged.map((t) => t.id);
  });
}

/** Whether a tenant accepts sign-ins and data (ACTIVE). */
export async function isTenantActive(deps: TenantDeps, id: string): Promise<boolean> {
  const row = await withSystem(deps.db, (tx) => findTenant(tx, id));
  return row?.status === "ACTIVE";
}
