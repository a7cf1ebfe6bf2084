// What the device services share: their dependencies, the change
// notification every registry change sends, and the shapes of audit entries
// and timeline events.

import { recordAuditIn } from "../audit/service.ts";
import { DEVICES_CHANNEL, notifyChange } from "../db/bus.ts";
import type { Db, Sql } from "../db/db.ts";
import type { Clock } from "../lib/clock.ts";
import type { Actor, Caller } from "../lib/ctx.ts";
import { insertDeviceEvent } from "./store.ts";

export interface DeviceDeps {
  db: Db;
  clock: Clock;
  /**
   * Called after a change to a device (or, without a device, to a whole
   * tenant's devices) has committed. The app drops this node's ingest cache
   * entry at once; other nodes hear the NOTIFY sent inside the transaction.
   */
  afterChange?: (tenantId: string, deviceId?: string) => void;
}

/** The actor the provisioning API's calls are recorded under. */
export const PROVISIONING_ACTOR: Actor = { kind: "system", id: "provisioning", name: "provisioning" };

/** Inside the transaction: tell every node's ingest cache that this device (or tenant) changed. */
export async function notifyDeviceChange(tx: Sql, tenantId: string, deviceId?: string): Promise<void> {
  await notifyChange(tx, DEVICES_CHANNEL, deviceId ? `${tenantId}/${deviceId}` : tenantId);
}

/** After commit: the local cache. */
export function changed(deps: DeviceDeps, tenantId: string, deviceId?: string): void {
  deps.afterChange?.(tenantId, deviceId);
}

/** An audit entry and a timeline event for one device, in the caller's transaction. */
export async function recordDeviceChange(
  tx: Sql,
  deps: Pick<DeviceDeps, "clock">,
  caller: Pick<Caller, "actor" | "ip" | "requestId">,
  e: { tenantId: string; deviceId: string; action: string; event?: string; details?: Record<string, unknown> },
): Promise<void> {
  const now = deps.clock.now();
  await recordAuditIn(tx, deps.clock, {
    tenantId: e.tenantId,
    actor: caller.actor,
    action: e.action,
    target: { kind: "device", id: e.deviceId },
    ip: caller.ip,
    requestId: caller.requestId,
    details: e.details,
  });
  if (e.event) await insertDeviceEvent(tx, { tenantId: e.tenantId, deviceId: e.deviceId, kind: e.event, time: now, details: { ...e.details, by: caller.actor.name } });
}
