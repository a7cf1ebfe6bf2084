// The device registry: create (with the first provision token), read, list
// with latest state, change, decommission (tokens revoked, history kept) and
// recommission. Tenant-admins change devices; everyone in the tenant reads
// them. Every change notifies the ingest caches inside its transaction.

import type { Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Caller, type Ctx } from "../lib/ctx.ts";
import { AppError, conflict, invalid, notFound } from "../lib/errors.ts";
import { optionalLatLng, optionalText, requireSlug, requireText } from "../lib/validate.ts";
import { siteIdsIn } from "../sites/service.ts";
import { tenantDeviceSettingsIn } from "../tenants/service.ts";
import { changed, notifyDeviceChange, recordDeviceChange, type DeviceDeps } from "./deps.ts";
import {
  ancestry,
  countDevices,
  countLiveDevices,
  dropActivationCodes,
  existingDeviceIds,
  findDevice,
  insertDevice,
  listDeviceEvents as listEventRows,
  listDevices as listRows,
  lockDevice,
  lockTenantDevices,
  revokeAllTokens,
  setDeviceStatus,
  updateDevice as updateRow,
  DEVICE_SORTS,
  type Connectivity,
  type DeviceEventRow,
  type DevicePatch,
  type DeviceRow,
  type DeviceSort,
  type DeviceStatus,
  type DeviceViewRow,
} from "./store.ts";
import { issueTokenIn } from "./tokens.ts";
import { checkNewDevice, parseHeartbeat, parseMetadata, parseOptionalSlug, parseTags, type DeviceFields, type DeviceInput } from "./validate.ts";

export type { DeviceDeps } from "./deps.ts";

export interface Device {
  id: string;
  name: string;
  siteId: string;
  status: DeviceStatus;
  tags: Record<string, string>;
  /** null: the tenant's default (see effectiveHeartbeatSeconds). */
  heartbeatSeconds: number | null;
  effectiveHeartbeatSeconds: number | null;
  parentDeviceId: string | null;
  model: string | null;
  serial: string | null;
  lat: number | null;
  lng: number | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  decommissionedAt: Date | null;
  decommissionedBy: string | null;
  decommissionReason: string | null;
  /** Latest state from device_state (OFFLINE and nulls before the first message). */
  connectivity: Connectivity;
  connectivitySince: Date | null;
  lastSeenAt: Date | null;
  lastTelemetryAt: Date | null;
  lastHeartbeatAt: Date | null;
  lastMetrics: Record<string, unknown>;
  messages: number;
  seqGaps: number;
}

export function toDevice(r: DeviceRow | DeviceViewRow): Device {
  const v = r as Partial<DeviceViewRow>;
  return {
    id: r.id,
    name: r.name,
    siteId: r.site_id,
    status: r.status,
    tags: r.tags,
    heartbeatSeconds: r.heartbeat_seconds,
    effectiveHeartbeatSeconds: v.effective_heartbeat_seconds ?? r.heartbeat_seconds,
    parentDeviceId: r.parent_device_id,
    model: r.model,
    serial: r.serial,
    lat: r.lat,
    lng: r.lng,
    metadata: r.metadata,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    decommissionedAt: r.decommissioned_at,
    decommissionedBy: r.decommissioned_by,
    decommissionReason: r.decommission_reason,
    connectivity: v.connectivity ?? "OFFLINE",
    connectivitySince: v.connectivity_since ?? null,
    lastSeenAt: v.last_seen_at ?? null,
    lastTelemetryAt: v.last_telemetry_at ?? null,
    lastHeartbeatAt: v.last_heartbeat_at ?? null,
    lastMetrics: v.last_metrics ?? {},
    messages: v.messages ?? 0,
    seqGaps: v.seq_gaps ?? 0,
  };
}

/** Refuse with DEVICE_LIMIT when `adding` more live devices would pass the tenant's limit. Holds a per-tenant lock until commit. */
export async function checkDeviceLimitIn(tx: Sql, tenantId: string, adding: number): Promise<{ limit: number | null; live: number }> {
  await lockTenantDevices(tx, tenantId);
  const t = await tenantDeviceSettingsIn(tx, tenantId);
  if (!t || t.status === "DELETED") throw notFound(`tenant ${tenantId}`);
  const live = await countLiveDevices(tx);
  if (t.deviceLimit !== null && live + adding > t.deviceLimit) {
    throw new AppError("DEVICE_LIMIT", `tenant ${tenantId} may have ${t.deviceLimit} device${t.deviceLimit === 1 ? "" : "s"} and has ${live}; decommission some or ask an operator to raise the limit`, { field: "device_limit" });
  }
  return { limit: t.deviceLimit, live };
}

/**
 * Insert one checked device inside the caller's transaction (site and parent
 * must exist), with its first token when it starts ACTIVE. 409 when the id is taken.
 */
export async function insertDeviceIn(
  tx: Sql,
  deps: DeviceDeps,
  caller: Caller,
  tenantId: string,
  f: DeviceFields,
  opts: { status: "ACTIVE" | "PENDING"; via: string },
): Promise<{ row: DeviceRow; token?: string }> {
  if ((await existingDeviceIds(tx, [f.id])).size) throw conflict(`device ${f.id} already exists`, "id");
  await checkDeviceLimitIn(tx, tenantId, 1);
  if (f.parentDeviceId && !(await existingDeviceIds(tx, [f.parentDeviceId])).size) throw invalid("parent_device_id", `parent_device_id: no device ${f.parentDeviceId} in this tenant`);
  const now = deps.clock.now();
  const row = await insertDevice(tx, { tenantId, ...f, status: opts.status, now });
  if (!row) throw conflict(`device ${f.id} already exists`, "id");
  const token = opts.status === "ACTIVE" ? (await issueTokenIn(tx, tenantId, f.id, now)).token : undefined;
  await notifyDeviceChange(tx, tenantId, f.id);
  await recordDeviceChange(tx, deps, caller, { tenantId, deviceId: f.id, action: "device.created", event: "created", details: { site_id: f.siteId, status: opts.status, via: opts.via } });
  return { row, token };
}

/** Register a device (tenant-admin); its first provision token is in the answer once and never again. */
export async function createDevice(deps: DeviceDeps, ctx: Ctx, input: DeviceInput): Promise<{ device: Device; token: string }> {
  requirePermission(ctx, "admin", "add devices");
  const f = checkNewDevice(input);
  const out = await withTenant(deps.db, ctx, async (tx) => {
    if (!(await siteIdsIn(tx, [f.siteId])).size) throw invalid("site_id", `site_id: no site ${f.siteId} in this tenant; create it first`);
    const { token } = await insertDeviceIn(tx, deps, ctx, ctx.tenantId, f, { status: "ACTIVE", via: "api" });
    return { device: toDevice((await findDevice(tx, f.id))!), token: token! };
  });
  changed(deps, ctx.tenantId, f.id);
  return out;
}

/** One device with its latest state; 404 when it is not in the caller's tenant. */
export async function getDevice(deps: DeviceDeps, ctx: Ctx, id: string): Promise<Device> {
  requirePermission(ctx, "read", "see devices");
  const row = await withTenant(deps.db, ctx, (tx) => findDevice(tx, id));
  if (!row) throw notFound(`device ${id}`);
  return toDevice(row);
}

export interface DeviceQuery {
  status?: DeviceStatus;
  connectivity?: Connectivity;
  siteId?: string;
  /** "key=value" (must match) or "key" (must be present); all must hold. */
  tags?: string[];
  /** Free text in id, name or serial. */
  q?: string;
  sort?: DeviceSort;
  order?: "asc" | "desc";
  limit?: number;
  /** From a previous page's nextCursor… */
  cursor?: string;
  /** …or skip this many (page numbers). */
  offset?: number;
}

export interface DeviceList {
  items: Device[];
  nextCursor: string | null;
  /** How many devices match the filters (all pages). */
  total: number;
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function decodeCursor(cursor: string, sort: DeviceSort, desc: boolean): [string, string] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    v = undefined;
  }
  const c = v as { s?: unknown; d?: unknown; k?: unknown; i?: unknown } | undefined;
  if (!c || typeof c.k !== "string" || typeof c.i !== "string") throw invalid("cursor", "cursor: not a cursor this API issued");
  if (c.s !== sort || c.d !== desc) throw invalid("cursor", "cursor: it belongs to a list in another order; start again without it");
  return [c.k, c.i];
}

/** A page of the tenant's devices with their latest state, filtered and sorted; never touches telemetry. */
export async function listDevices(deps: DeviceDeps, ctx: Ctx, query: DeviceQuery = {}): Promise<DeviceList> {
  requirePermission(ctx, "read", "see devices");
  const sort = query.sort ?? "id";
  if (!DEVICE_SORTS.includes(sort)) throw invalid("sort", `sort: one of ${DEVICE_SORTS.join(", ")}`);
  const desc = query.order === "desc";
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 50), 1), 10_000);
  const offset = query.offset === undefined ? undefined : Math.max(0, Math.trunc(query.offset));
  const tags: Array<[string, string | null]> = (query.tags ?? []).map((t) => {
    const i = t.indexOf("=");
    const k = i < 0 ? t : t.slice(0, i);
    if (!k) throw invalid("tag", "tag: key=value or key");
    return [k, i < 0 ? null : t.slice(i + 1)];
  });
  const filter = { status: query.status, connectivity: query.connectivity, siteId: query.siteId, tags, q: query.q?.trim() || undefined };
  const after = query.cursor ? decodeCursor(query.cursor, sort, desc) : undefined;
  return withTenant(deps.db, ctx, async (tx) => {
    const rows = await listRows(tx, filter, { sort, desc, limit, after, offset });
    const total = await countDevices(tx, filter);
    const last = rows.at(-1);
    return {
      items: rows.map(toDevice),
      nextCursor: rows.length === limit && last ? encode({ s: sort, d: desc, k: last.sort_key, i: last.id }) : null,
      total,
    };
  });
}

/** Change a device (tenant-admin): name, site, tags (replaced whole), heartbeat, parent, model, serial, position, metadata. */
export async function updateDevice(deps: DeviceDeps, ctx: Ctx, id: string, input: Omit<DeviceInput, "id">): Promise<Device> {
  requirePermission(ctx, "admin", "change devices");
  const out = await withTenant(deps.db, ctx, async (tx) => {
    const current = await lockDevice(tx, id);
    if (!current) throw notFound(`device ${id}`);
    const patch: DevicePatch = {};
    if (input.name !== undefined) patch.name = requireText("name", input.name);
    if (input.site_id !== undefined) {
      const site = requireSlug("site_id", input.site_id);
      if (!(await siteIdsIn(tx, [site])).size) throw invalid("site_id", `site_id: no site ${site} in this tenant`);
      patch.site_id = site;
    }
    if (input.tags !== undefined) patch.tags = parseTags("tags", input.tags);
    if (input.heartbeat_seconds !== undefined) patch.heartbeat_seconds = parseHeartbeat("heartbeat_seconds", input.heartbeat_seconds);
    if (input.parent_device_id !== undefined) {
      const parent = parseOptionalSlug("parent_device_id", input.parent_device_id);
      if (parent) {
        const chain = await ancestry(tx, parent);
        if (chain.length === 0) throw invalid("parent_device_id", `parent_device_id: no device ${parent} in this tenant`);
        if (chain.includes(id)) throw invalid("parent_device_id", `parent_device_id: ${parent} is ${parent === id ? "this device" : "below this device"}; that would make a cycle`);
      }
      patch.parent_device_id = parent;
    }
    if (input.model !== undefined) patch.model = optionalText("model", input.model);
    if (input.serial !== undefined) patch.serial = optionalText("serial", input.serial);
    if (input.lat !== undefined || input.lng !== undefined) {
      const pos = optionalLatLng(input.lat === undefined ? current.lat : input.lat, input.lng === undefined ? current.lng : input.lng);
      patch.lat = pos.lat;
      patch.lng = pos.lng;
    }
    if (input.metadata !== undefined) patch.metadata = parseMetadata("metadata", input.metadata);
    await updateRow(tx, id, patch, deps.clock.now());
    await notifyDeviceChange(tx, ctx.tenantId, id);
    const changedFields = Object.keys(patch);
    await recordDeviceChange(tx, deps, ctx, { tenantId: ctx.tenantId, deviceId: id, action: "device.updated", event: "updated", details: { fields: changedFields } });
    return toDevice((await findDevice(tx, id))!);
  });
  changed(deps, ctx.tenantId, id);
  return out;
}

/**
 * Decommission (tenant-admin): status REVOKED, every token revoked, who and
 * why recorded; the history stays and ingest answers DEVICE_REVOKED.
 */
export async function decommissionDevice(deps: DeviceDeps, ctx: Ctx, id: string, opts: { reason?: unknown } = {}): Promise<Device> {
  requirePermission(ctx, "admin", "decommission devices");
  const reason = optionalText("reason", opts.reason, 500);
  const now = deps.clock.now();
  const out = await withTenant(deps.db, ctx, async (tx) => {
    const current = await lockDevice(tx, id);
    if (!current) throw notFound(`device ${id}`);
    if (current.status === "REVOKED") throw conflict(`device ${id} is already decommissioned`, "status");
    const revoked = await revokeAllTokens(tx, id, now);
    await dropActivationCodes(tx, id);
    await setDeviceStatus(tx, id, { status: "REVOKED", now, decommissioned: { by: ctx.actor.name, reason } });
    await notifyDeviceChange(tx, ctx.tenantId, id);
    await recordDeviceChange(tx, deps, ctx, {
      tenantId: ctx.tenantId,
      deviceId: id,
      action: "device.decommissioned",
      event: "decommissioned",
      details: { reason, by: ctx.actor.name, previous_status: current.status, tokens_revoked: revoked },
    });
    return toDevice((await findDevice(tx, id))!);
  });
  changed(deps, ctx.tenantId, id);
  return out;
}

/** Bring a decommissioned device back (tenant-admin): ACTIVE again with a new token, shown once; old tokens stay revoked. */
export async function recommissionDevice(deps: DeviceDeps, ctx: Ctx, id: string): Promise<{ device: Device; token: string }> {
  requirePermission(ctx, "admin", "recommission devices");
  const now = deps.clock.now();
  const out = await withTenant(deps.db, ctx, async (tx) => {
    const current = await lockDevice(tx, id);
    if (!current) throw notFound(`device ${id}`);
    if (current.status !== "REVOKED") throw conflict(`device ${id} is ${current.status}, not decommissioned`, "status");
    await checkDeviceLimitIn(tx, ctx.tenantId, 1);
    await setDeviceStatus(tx, id, { status: "ACTIVE", now, decommissioned: null });
    const issued = await issueTokenIn(tx, ctx.tenantId, id, now);
    await notifyDeviceChange(tx, ctx.tenantId, id);
    await recordDeviceChange(tx, deps, ctx, {
      tenantId: ctx.tenantId,
      deviceId: id,
      action: "device.recommissioned",
      event: "recommissioned",
      details: { token_id: issued.row.id, decommissioned_at: current.decommissioned_at?.toISOString() ?? null, decommission_reason: current.decommission_reason },
    });
    return { device: toDevice((await findDevice(tx, id))!), token: issued.token };
  });
  changed(deps, ctx.tenantId, id);
  return out;
}

export interface DeviceEvent {
  id: number;
  time: Date;
  kind: string;
  details: Record<string, unknown>;
}

/** A device's timeline (created, decommissioned, tokens rotated…), newest first. */
export async function listDeviceEvents(deps: DeviceDeps, ctx: Ctx, id: string, opts: { limit?: number; beforeId?: number } = {}): Promise<DeviceEvent[]> {
  requirePermission(ctx, "read", "see devices");
  const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
  return withTenant(deps.db, ctx, async (tx) => {
    if (!(await existingDeviceIds(tx, [id])).size) throw notFound(`device ${id}`);
    return (await listEventRows(tx, id, { limit, beforeId: opts.beforeId })).map((r: DeviceEventRow) => ({ id: r.id, time: r.time, kind: r.kind, details: r.details }));
  });
}
