// CSV import of devices, all or nothing: every row is checked first (its
// fields, duplicates in the file, ids that exist, sites, parents, the device
// limit) and reported by line; if any row fails nothing is written. Otherwise
// all devices, their first tokens and timeline events go in one transaction
// with COPY (multi-row INSERT on PGlite), and the tokens come back once as a
// credentials CSV.

import { recordAuditIn } from "../audit/service.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { AppError, invalid } from "../lib/errors.ts";
import { optionalLatLng, optionalText, requireSlug, requireText } from "../lib/validate.ts";
import { siteIdsIn } from "../sites/service.ts";
import { tenantDeviceSettingsIn } from "../tenants/service.ts";
import { parseCsv, toCsv } from "./csv.ts";
import { changed, notifyDeviceChange, type DeviceDeps } from "./deps.ts";
import { copyDeviceEvents, copyDevices, copyTokens, countLiveDevices, existingDeviceIds, lockTenantDevices, type NewDevice } from "./store.ts";
import { newProvisionToken } from "./tokens.ts";
import { parseHeartbeat, parseOptionalSlug, parseTagString, type DeviceFields } from "./validate.ts";

export const IMPORT_COLUMNS = ["device_id", "name", "site_id", "tags", "heartbeat_seconds", "model", "serial", "lat", "lng", "parent_device_id"] as const;
type Column = (typeof IMPORT_COLUMNS)[number];
export const MAX_IMPORT_ROWS = 50_000;

export interface ImportRow {
  /** Line of the file the row starts on (the header is line 1). */
  line: number;
  deviceId: string;
  ok: boolean;
  /** Each names its column first: "site_id: no site lab-9 in this tenant". */
  errors: string[];
}

export interface ImportReport {
  ok: boolean;
  dryRun: boolean;
  /** Devices written (0 unless ok and not a dry run). */
  created: number;
  rows: ImportRow[];
  /** "device_id,provision_token" lines: the only copy of the new tokens. */
  credentialsCsv?: string;
}

/** Field checks that collect every problem of a row instead of stopping at the first. */
function checkRow(get: (c: Column) => string, errors: string[]): DeviceFields | undefined {
  const field = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof AppError) errors.push(err.message);
      else throw err;
      return undefined;
    }
  };
  const id = field(() => requireSlug("device_id", get("device_id")));
  const siteId = field(() => requireSlug("site_id", get("site_id")));
  const name = field(() => (get("name").trim() === "" ? (id ?? "") : requireText("name", get("name"))));
  const tags = field(() => parseTagString("tags", get("tags")));
  const heartbeatSeconds = field(() => parseHeartbeat("heartbeat_seconds", get("heartbeat_seconds")));
  const model = field(() => optionalText("model", get("model")));
  const serial = field(() => optionalText("serial", get("serial")));
  const pos = field(() => optionalLatLng(get("lat"), get("lng")));
  const parentDeviceId = field(() => parseOptionalSlug("parent_device_id", get("parent_device_id")));
  if (parentDeviceId && parentDeviceId === id) errors.push("parent_device_id: a device cannot be its own parent");
  if (errors.length) return undefined;
  return { id: id!, name: name!, siteId: siteId!, tags: tags!, heartbeatSeconds: heartbeatSeconds!, model: model!, serial: serial!, lat: pos!.lat, lng: pos!.lng, parentDeviceId: parentDeviceId!, metadata: {} };
}

function readHeader(cells: string[]): Map<Column, number> {
  const index = new Map<Column, number>();
  cells.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) throw invalid("csv", `csv: line 1: unknown column ${JSON.stringify(raw)}; the columns are ${IMPORT_COLUMNS.join(",")}`);
    if (index.has(name as Column)) throw invalid("csv", `csv: line 1: column ${name} appears twice`);
    index.set(name as Column, i);
  });
  for (const required of ["device_id", "site_id"] as const) {
    if (!index.has(required)) throw invalid("csv", `csv: line 1: the header must name the columns, with at least device_id and site_id (${IMPORT_COLUMNS.join(",")})`);
  }
  return index;
}

/** Import devices from CSV (tenant-admin), all or nothing; dryRun checks only. The report names every bad row's line and problems. */
export async function importDevices(deps: DeviceDeps, ctx: Ctx, csv: string, opts: { dryRun?: boolean } = {}): Promise<ImportReport> {
  requirePermission(ctx, "admin", "import devices");
  const dryRun = opts.dryRun === true;
  const records = parseCsv(csv);
  if (records.length === 0) throw invalid("csv", "csv: empty; the first line must be the header");
  const header = readHeader(records[0]!.cells);
  const data = records.slice(1);
  if (data.length === 0) throw invalid("csv", "csv: no rows after the header");
  if (data.length > MAX_IMPORT_ROWS) throw invalid("csv", `csv: at most ${MAX_IMPORT_ROWS} rows in one import; split the file`);

  const rows: ImportRow[] = [];
  const fields: Array<DeviceFields | undefined> = [];
  const firstLine = new Map<string, number>();
  for (const rec of data) {
    const errors: string[] = [];
    const get = (c: Column) => {
      const i = header.get(c);
      return i === undefined ? "" : (rec.cells[i] ?? "");
    };
    if (rec.cells.length !== header.size) errors.push(`row: ${rec.cells.length} columns where the header has ${header.size}`);
    const f = checkRow(get, errors);
    const deviceId = get("device_id").trim();
    const seen = firstLine.get(deviceId);
    if (deviceId && seen !== undefined) errors.push(`device_id: ${deviceId} is also on line ${seen}`);
    else if (deviceId) firstLine.set(deviceId, rec.line);
    rows.push({ line: rec.line, deviceId, ok: errors.length === 0, errors });
    fields.push(errors.length ? undefined : f);
  }
  const fail = (i: number, message: string) => {
    rows[i]!.errors.push(message);
    rows[i]!.ok = false;
  };

  const now = deps.clock.now();
  const report = await withTenant(deps.db, ctx, async (tx): Promise<ImportReport> => {
    await lockTenantDevices(tx, ctx.tenantId);
    const ids = rows.map((r) => r.deviceId).filter((id) => id !== "");
    const exists = await existingDeviceIds(tx, ids);
    const sites = await siteIdsIn(tx, fields.flatMap((f) => (f ? [f.siteId] : [])));
    const outsideParents = [...new Set(fields.flatMap((f) => (f?.parentDeviceId && !firstLine.has(f.parentDeviceId) ? [f.parentDeviceId] : [])))];
    const parents = await existingDeviceIds(tx, outsideParents);
    const inFile = new Map(fields.flatMap((f) => (f ? [[f.id, f] as const] : [])));
    fields.forEach((f, i) => {
      const id = rows[i]!.deviceId;
      if (id && exists.has(id)) fail(i, `device_id: device ${id} already exists`);
      if (!f) return;
      if (!sites.has(f.siteId)) fail(i, `site_id: no site ${f.siteId} in this tenant; create it first`);
      if (f.parentDeviceId && !firstLine.has(f.parentDeviceId) && !parents.has(f.parentDeviceId)) fail(i, `parent_device_id: no device ${f.parentDeviceId} in this tenant or this file`);
      // Parents among the new rows: walk up; coming back to this row is a cycle.
      let p = f.parentDeviceId ? inFile.get(f.parentDeviceId) : undefined;
      for (let hops = 0; p && hops <= inFile.size; hops++) {
        if (p.id === f.id) {
          fail(i, `parent_device_id: ${f.parentDeviceId} leads back to ${f.id}; parents cannot form a cycle`);
          break;
        }
        p = p.parentDeviceId ? inFile.get(p.parentDeviceId) : undefined;
      }
    });
    const tenant = await tenantDeviceSettingsIn(tx, ctx.tenantId);
    if (tenant?.deviceLimit !== null && tenant?.deviceLimit !== undefined) {
      const live = await countLiveDevices(tx);
      const room = Math.max(0, tenant.deviceLimit - live);
      for (let i = room; i < rows.length; i++) fail(i, `DEVICE_LIMIT: the tenant may have ${tenant.deviceLimit} devices and has ${live}; this row would pass the limit`);
    }
    const ok = rows.every((r) => r.ok);
    if (!ok || dryRun) return { ok, dryRun, created: 0, rows };

    const devices: NewDevice[] = fields.map((f) => ({ tenantId: ctx.tenantId, ...f!, status: "ACTIVE", now }));
    const tokens = devices.map((d) => ({ deviceId: d.id, ...newProvisionToken() }));
    await copyDevices(tx, devices);
    await copyTokens(tx, tokens.map((t) => ({ tenantId: ctx.tenantId, deviceId: t.deviceId, hash: t.hash, now })));
    await copyDeviceEvents(tx, devices.map((d) => ({ tenantId: ctx.tenantId, deviceId: d.id, kind: "created", time: now, details: { site_id: d.siteId, status: "ACTIVE", via: "import", by: ctx.actor.name } })));
    // One notification for the tenant rather than one per device.
    await notifyDeviceChange(tx, ctx.tenantId);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "device.imported", ip: ctx.ip, requestId: ctx.requestId, details: { count: devices.length } });
    return { ok, dryRun, created: devices.length, rows, credentialsCsv: toCsv([["device_id", "provision_token"], ...tokens.map((t) => [t.deviceId, t.token])]) };
  });
  if (report.created) changed(deps, ctx.tenantId);
  return report;
}
