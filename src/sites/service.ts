// Sites: where devices are (a plant, a store, a cold room), with their time
// zone and position. Tenant-admins manage them; everyone in the tenant reads
// them. A site is deleted only once no device refers to it any more.

import { recordAuditIn } from "../audit/service.ts";
import type { Db, Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { conflict, notFound } from "../lib/errors.ts";
import { optionalLatLng, optionalText, requireSlug, requireText, requireTimeZone } from "../lib/validate.ts";
import {
  countSiteDevices,
  deleteSite as deleteRow,
  existingSiteIds,
  findSite,
  insertMissingSites,
  insertSite,
  listSites as listRows,
  updateSite as updateRow,
  type SiteRow,
  type SiteWithCount,
} from "./store.ts";

export interface SiteDeps {
  db: Db;
  clock: Clock;
}

export interface Site {
  id: string;
  name: string;
  timezone: string;
  lat: number | null;
  lng: number | null;
  address: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Devices that belong to the site (any status); set on reads. */
  deviceCount: number;
}

export interface SiteInput {
  id?: unknown;
  name?: unknown;
  timezone?: unknown;
  lat?: unknown;
  lng?: unknown;
  address?: unknown;
}

const toSite = (r: SiteRow | SiteWithCount): Site => ({
  id: r.id,
  name: r.name,
  timezone: r.timezone,
  lat: r.lat,
  lng: r.lng,
  address: r.address,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deviceCount: "device_count" in r ? r.device_count : 0,
});

const audit = (ctx: Ctx, action: string, id: string, details?: Record<string, unknown>) => ({
  tenantId: ctx.tenantId,
  actor: ctx.actor,
  action,
  target: { kind: "site", id },
  ip: ctx.ip,
  requestId: ctx.requestId,
  details,
});

/** Create a site (tenant-admin); the id is a slug as in PROTOCOL.md. */
export async function createSite(deps: SiteDeps, ctx: Ctx, input: SiteInput): Promise<Site> {
  requirePermission(ctx, "admin", "create sites");
  const id = requireSlug("id", input.id);
  const name = input.name === undefined || input.name === null ? id : requireText("name", input.name);
  const timezone = input.timezone === undefined || input.timezone === null ? "UTC" : requireTimeZone("timezone", input.timezone);
  const { lat, lng } = optionalLatLng(input.lat, input.lng);
  const address = optionalText("address", input.address, 500);
  return withTenant(deps.db, ctx, async (tx) => {
    const row = await insertSite(tx, { tenantId: ctx.tenantId, id, name, timezone, lat, lng, address, now: deps.clock.now() });
    if (!row) throw conflict(`site ${id} already exists`, "id");
    await recordAuditIn(tx, deps.clock, audit(ctx, "site.created", id, { name, timezone }));
    return toSite(row);
  });
}

/** One site with its device count; 404 when it is not in the caller's tenant. */
export async function getSite(deps: SiteDeps, ctx: Ctx, id: string): Promise<Site> {
  requirePermission(ctx, "read", "see sites");
  const row = await withTenant(deps.db, ctx, (tx) => findSite(tx, id));
  if (!row) throw notFound(`site ${id}`);
  return toSite(row);
}

/** The tenant's sites in id order, a page at a time, with device counts. */
export async function listSites(deps: SiteDeps, ctx: Ctx, opts: { limit?: number; afterId?: string; q?: string } = {}): Promise<Site[]> {
  requirePermission(ctx, "read", "see sites");
  const limit = Math.min(Math.max(opts.limit ?? 500, 1), 10_000);
  return (await withTenant(deps.db, ctx, (tx) => listRows(tx, { limit, afterId: opts.afterId, q: opts.q?.trim() || undefined }))).map(toSite);
}

/** Change a site's name, time zone, position or address (tenant-admin); null clears the optional ones. */
export async function updateSite(deps: SiteDeps, ctx: Ctx, id: string, input: Omit<SiteInput, "id">): Promise<Site> {
  requirePermission(ctx, "admin", "change sites");
  return withTenant(deps.db, ctx, async (tx) => {
    const current = await findSite(tx, id);
    if (!current) throw notFound(`site ${id}`);
    const patch: Partial<Pick<SiteRow, "name" | "timezone" | "lat" | "lng" | "address">> = {};
    if (input.name !== undefined) patch.name = requireText("name", input.name);
    if (input.timezone !== undefined) patch.timezone = requireTimeZone("timezone", input.timezone);
    if (input.lat !== undefined || input.lng !== undefined) {
      const pos = optionalLatLng(input.lat === undefined ? current.lat : input.lat, input.lng === undefined ? current.lng : input.lng);
      patch.lat = pos.lat;
      patch.lng = pos.lng;
    }
    if (input.address !== undefined) patch.address = optionalText("address", input.address, 500);
    const row = await updateRow(tx, id, patch, deps.clock.now());
    await recordAuditIn(tx, deps.clock, audit(ctx, "site.updated", id, patch));
    return toSite({ ...row!, device_count: current.device_count });
  });
}

/** Delete a site (tenant-admin); refused with 409 while any device (decommissioned ones too) belongs to it. */
export async function deleteSite(deps: SiteDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "delete sites");
  await withTenant(deps.db, ctx, async (tx) => {
    const current = await findSite(tx, id);
    if (!current) throw notFound(`site ${id}`);
    const n = await countSiteDevices(tx, id);
    if (n > 0) throw conflict(`site ${id} still has ${n} device${n === 1 ? "" : "s"}; move or remove them first`, "id");
    await deleteRow(tx, id);
    await recordAuditIn(tx, deps.clock, audit(ctx, "site.deleted", id, { name: current.name }));
  });
}

/** Which of these site ids exist, inside a transaction the caller holds (scoped to one tenant). */
export async function siteIdsIn(tx: Sql, ids: readonly string[]): Promise<Set<string>> {
  return existingSiteIds(tx, [...new Set(ids)]);
}

/** Create missing sites named by their id (the provisioning API does this); returns the ids created. */
export async function ensureSitesIn(tx: Sql, tenantId: string, ids: readonly string[], now: Date): Promise<string[]> {
  return insertMissingSites(tx, tenantId, [...new Set(ids)], now);
}
