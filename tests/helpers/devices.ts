// Register test devices straight in the database, as the device registry
// service will (a site, the device, the sha256 of its provision token) and
// tell every node's ingest cache about it with the same NOTIFY. Ingest suites
// use this so they do not depend on the registry service's API.

import type { App } from "../../src/app.ts";
import { DEVICES_CHANNEL, notifyChange } from "../../src/db/bus.ts";
import { withSystem } from "../../src/db/scope.ts";
import type { DeviceAuth } from "../../src/ingest/registry.ts";
import { sha256Hex } from "../../src/lib/ids.ts";

export interface TestDevice {
  tenant: string;
  device: string;
  site: string;
  token: string;
}

type HasDb = Pick<App, "db">;

/** A registered device with one valid token (`tok-<tenant>-<device>` unless given). */
export async function registerDevice(
  app: HasDb,
  tenant: string,
  device: string,
  opts: { site?: string; token?: string; status?: "ACTIVE" | "PENDING" | "REVOKED"; heartbeatSeconds?: number } = {},
): Promise<TestDevice> {
  const site = opts.site ?? "lab-1";
  const token = opts.token ?? `tok-${tenant}-${device}`;
  await withSystem(app.db, async (tx) => {
    await tx.query("insert into sites (tenant_id, id, name) values ($1, $2, $2) on conflict do nothing", [tenant, site]);
    await tx.query("insert into devices (tenant_id, id, site_id, status, heartbeat_seconds) values ($1, $2, $3, $4, $5)", [tenant, device, site, opts.status ?? "ACTIVE", opts.heartbeatSeconds ?? null]);
    await tx.query("insert into device_tokens (tenant_id, device_id, token_hash) values ($1, $2, $3)", [tenant, device, sha256Hex(token)]);
    await notifyChange(tx, DEVICES_CHANNEL, `${tenant}/${device}`);
  });
  return { tenant, device, site, token };
}

/** Change a device's registry status (REVOKED = decommissioned) and notify. */
export async function setDeviceStatus(app: HasDb, tenant: string, device: string, status: "ACTIVE" | "PENDING" | "REVOKED"): Promise<void> {
  await withSystem(app.db, async (tx) => {
    await tx.query("update devices set status = $3, updated_at = now() where tenant_id = $1 and id = $2", [tenant, device, status]);
    await notifyChange(tx, DEVICES_CHANNEL, `${tenant}/${device}`);
  });
}

/** Revoke every token of a device and notify. */
export async function revokeTokens(app: HasDb, tenant: string, device: string): Promise<void> {
  await withSystem(app.db, async (tx) => {
    await tx.query("update device_tokens set revoked_at = now() where tenant_id = $1 and device_id = $2", [tenant, device]);
    await notifyChange(tx, DEVICES_CHANNEL, `${tenant}/${device}`);
  });
}

/** Set a tenant's device limit (null: none) and notify the whole tenant. */
export async function setDeviceLimit(app: HasDb, tenant: string, limit: number | null): Promise<void> {
  await withSystem(app.db, async (tx) => {
    await tx.query("update tenants set device_limit = $2 where id = $1", [tenant, limit]);
    await notifyChange(tx, DEVICES_CHANNEL, tenant);
  });
}

/**
 * Wait until the ingest registry cache sees a change (the NOTIFY arrives
 * asynchronously on Postgres). Fails after a few seconds: a change that never
 * reaches the cache is exactly what these tests are for.
 */
export async function waitForRegistry(app: Pick<App, "ingest">, tenant: string, device: string, ready: (auth: DeviceAuth | undefined) => boolean, what = "the registry change"): Promise<void> {
  const until = Date.now() + 5_000;
  for (;;) {
    if (ready(await app.ingest.registry.get(tenant, device))) return;
    if (Date.now() > until) throw new Error(`ingest registry never saw ${what} for ${tenant}/${device}`);
    await Bun.sleep(20);
  }
}

// ---- What ingest wrote, read as the system (across tenants) ----

export interface QuarantineRow {
  tenant_id: string | null;
  device_id: string | null;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string | null;
  payload: string | null;
}

/** Quarantined messages, oldest first (flush the quarantine first). */
export async function quarantineRows(app: Pick<App, "db" | "ingest">, where: { tenant?: string | null; device?: string } = {}): Promise<QuarantineRow[]> {
  await app.ingest.quarantine.flush();
  const rows = await withSystem(app.db, (tx) => tx.query<QuarantineRow>("select tenant_id, device_id, reason, transport, topic, detail, payload from quarantine order by id"));
  return rows.filter((r) => (where.tenant === undefined || r.tenant_id === where.tenant) && (where.device === undefined || r.device_id === where.device));
}

/** rejection_counts as {tenant: {reason: n}}. */
export async function rejectionCounts(app: Pick<App, "db" | "ingest">): Promise<Record<string, Record<string, number>>> {
  await app.ingest.quarantine.flush();
  const rows = await withSystem(app.db, (tx) => tx.query<{ tenant_id: string; reason: string; count: string | number }>("select tenant_id, reason, count from rejection_counts"));
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) (out[r.tenant_id] ??= {})[r.reason] = Number(r.count);
  return out;
}

export interface TelemetryRow {
  time: Date;
  tenant_id: string;
  device_id: string;
  metrics: Record<string, unknown>;
}

/** Telemetry rows of one device, by time. */
export async function telemetryRows(app: Pick<App, "db">, tenant: string, device: string): Promise<TelemetryRow[]> {
  const rows = await withSystem(app.db, (tx) =>
    tx.query<TelemetryRow>("select time, tenant_id, device_id, metrics from telemetry where tenant_id = $1 and device_id = $2 order by time", [tenant, device]),
  );
  return rows.map((r) => ({ ...r, time: new Date(r.time), metrics: typeof r.metrics === "string" ? JSON.parse(r.metrics) : r.metrics }));
}

export interface DeviceStateRow {
  last_seen_at: Date | null;
  last_telemetry_at: Date | null;
  last_heartbeat_at: Date | null;
  connectivity: string;
  last_metrics: Record<string, unknown>;
  last_seq: number | null;
  seq_gaps: number;
  messages: number;
  lat: number | null;
  lng: number | null;
}

export async function deviceState(app: Pick<App, "db">, tenant: string, device: string): Promise<DeviceStateRow | undefined> {
  const [r] = await withSystem(app.db, (tx) => tx.query<Record<string, unknown>>("select * from device_state where tenant_id = $1 and device_id = $2", [tenant, device]));
  if (!r) return undefined;
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    last_seen_at: date(r.last_seen_at),
    last_telemetry_at: date(r.last_telemetry_at),
    last_heartbeat_at: date(r.last_heartbeat_at),
    connectivity: r.connectivity as string,
    last_metrics: (typeof r.last_metrics === "string" ? JSON.parse(r.last_metrics) : r.last_metrics) as Record<string, unknown>,
    last_seq: num(r.last_seq),
    seq_gaps: Number(r.seq_gaps),
    messages: Number(r.messages),
    lat: num(r.lat),
    lng: num(r.lng),
  };
}

// ---- Sending over HTTP ----

/** Something that answers HTTP requests: a TestPulse (app.request, no socket) or `viaSocket(pulse)`. */
export interface Requester {
  request(path: string, init?: RequestInit): Promise<Response>;
}

/** Send requests over a real socket to a listening Pulse. */
export const viaSocket = (p: { url: string }): Requester => ({ request: (path, init) => fetch(p.url + path, init) });

/** POST one envelope to the per-device endpoint (no token header when d.token is absent). */
export function postMessage(
  base: Requester,
  d: { tenant: string; device: string; token?: string | null },
  body: unknown,
  msgType = "telemetry",
  headers: Record<string, string> = {},
): Promise<Response> {
  const path = `/ingest/v1/tenant/${d.tenant}/device/${d.device}/${msgType}`;
  const init: RequestInit = {
    method: "POST",
    headers: { "content-type": "application/json", ...(d.token ? { "X-Provision-Token": d.token } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
  return base.request(path, init);
}
