// The fleet at a glance: devices online / stale / offline (from device_state,
// never from telemetry), active alerts by severity, the most severe alerts
// and the devices heard from last — for one tenant, or across every tenant
// for operators who work in none (the start of the NOC view). Also the small
// lookups the alert inbox needs: counts per severity tab, and the names
// behind device and site ids.

import type { Db } from "../db/db.ts";
import { withCrossTenantRead, withTenant } from "../db/scope.ts";
import { requirePermission, type Caller, type Ctx } from "../lib/ctx.ts";
import type { AlertFilter } from "../alerts/store.ts";
import { SEVERITIES, type Severity } from "../alerts/evaluate.ts";
import type { Sql } from "../db/db.ts";
import { activeAlertCounts, countAlertsBySeverity, deviceCounts, deviceLabels, listLiveTenants, recentlySeen, siteChoices, topActiveAlerts, type RankedAlert, type SeenDeviceRow } from "./store.ts";

export type { RankedAlert, SeenDeviceRow } from "./store.ts";

export interface FleetDeps {
  db: Db;
}

export interface DeviceCounts {
  online: number;
  stale: number;
  offline: number;
  /** Registered, waiting for activation (not counted in the three above). */
  pending: number;
  /** Every device that is not decommissioned. */
  total: number;
}

export type AlertCounts = Record<Severity, { open: number; acknowledged: number }>;

export interface TenantSummary {
  id: string;
  name: string;
  status: string;
  devices: DeviceCounts;
  alerts: AlertCounts;
}

export interface FleetOverview {
  /** "platform": an operator working in no tenant sees every tenant. */
  scope: "tenant" | "platform";
  devices: DeviceCounts;
  alerts: AlertCounts;
  /** Active alerts, most severe first, newest first within a severity. */
  topAlerts: RankedAlert[];
  /** Devices by last seen, most recent first. */
  recentDevices: SeenDeviceRow[];
  /** Per tenant (platform scope only). */
  tenants: TenantSummary[];
}

const emptyDevices = (): DeviceCounts => ({ online: 0, stale: 0, offline: 0, pending: 0, total: 0 });
const emptyAlerts = (): AlertCounts => Object.fromEntries(SEVERITIES.map((s) => [s, { open: 0, acknowledged: 0 }])) as AlertCounts;

/** The overview of the caller's tenant, or of every tenant for an operator working in none. */
export async function fleetOverview(deps: FleetDeps, caller: Caller, opts: { alerts?: number; devices?: number } = {}): Promise<FleetOverview> {
  const platform = !caller.tenantId;
  if (platform) requirePermission(caller, "platform-read", "see every tenant's fleet");
  else requirePermission(caller, "read", "see the fleet");
  const read = async (tx: Sql) => ({
    devices: await deviceCounts(tx),
    alerts: await activeAlertCounts(tx),
    top: await topActiveAlerts(tx, opts.alerts ?? 10),
    recent: await recentlySeen(tx, opts.devices ?? 10),
    tenants: platform ? await listLiveTenants(tx) : [],
  });
  const r = platform ? await withCrossTenantRead(deps.db, read) : await withTenant(deps.db, caller as Ctx, read);

  const byTenant = new Map<string, TenantSummary>(r.tenants.map((t) => [t.id, { ...t, devices: emptyDevices(), alerts: emptyAlerts() }]));
  const devices = emptyDevices();
  const alerts = emptyAlerts();
  for (const row of r.devices) {
    for (const c of [devices, byTenant.get(row.tenant_id)?.devices]) {
      if (!c) continue;
      c.total += row.n;
      if (row.status === "PENDING") c.pending += row.n;
      else if (row.connectivity === "ONLINE") c.online += row.n;
      else if (row.connectivity === "STALE") c.stale += row.n;
      else c.offline += row.n;
    }
  }
  for (const row of r.alerts) {
    for (const a of [alerts, byTenant.get(row.tenant_id)?.alerts]) {
      const c = a?.[row.severity as Severity];
      if (!c) continue;
      if (row.status === "OPEN") c.open += row.n;
      else c.acknowledged += row.n;
    }
  }
  return { scope: platform ? "platform" : "tenant", devices, alerts, topAlerts: r.top, recentDevices: r.recent, tenants: [...byTenant.values()] };
}

/** Alerts matching the inbox's filters (all but severity), counted per severity for its tabs. */
export async function countAlertsPerSeverity(deps: FleetDeps, ctx: Ctx, filter: Omit<AlertFilter, "severity" | "before" | "limit">): Promise<Record<Severity, number>> {
  requirePermission(ctx, "read", "see alerts");
  const rows = await withTenant(deps.db, ctx, (tx) => countAlertsBySeverity(tx, filter));
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const r of rows) if (r.severity in out) out[r.severity as Severity] = r.n;
  return out;
}

export interface DeviceLabel {
  name: string | null;
  siteId: string;
  siteName: string | null;
}

/** Names of devices and their sites by device id, for lists that hold only ids. */
export async function describeDevices(deps: FleetDeps, ctx: Ctx, ids: readonly string[]): Promise<Map<string, DeviceLabel>> {
  requirePermission(ctx, "read", "see devices");
  if (!ids.length) return new Map();
  const rows = await withTenant(deps.db, ctx, (tx) => deviceLabels(tx, ids));
  return new Map(rows.map((r) => [r.id, { name: r.name, siteId: r.site_id, siteName: r.site_name }]));
}

/** The tenant's sites (id and name), for filter and scope choices. */
export async function listSiteChoices(deps: FleetDeps, ctx: Ctx, limit = 500): Promise<Array<{ id: string; name: string }>> {
  requirePermission(ctx, "read", "see sites");
  return withTenant(deps.db, ctx, (tx) => siteChoices(tx, limit));
}
