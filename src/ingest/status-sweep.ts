// Device connectivity from last_seen and the heartbeat interval (PROTOCOL.md
// "Status"): ONLINE while seen within 2 intervals, STALE after that, OFFLINE
// after 5. The leader sweeps every few seconds; each change is a device event
// (alerting turns OFFLINE into NO_HEARTBEAT) and a notification for live views.

import { notifyChange } from "../db/bus.ts";
import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import { insertMissingDeviceStates, sweepConnectivity, type Connectivity } from "./status-store.ts";

export const STALE_INTERVALS = 2;
export const OFFLINE_INTERVALS = 5;
export const STATUS_CHANNEL = "pulse_device_status";

export interface Transition {
  tenantId: string;
  deviceId: string;
  from: Connectivity;
  to: Connectivity;
  lastSeenAt: Date | null;
}

/** Recompute every active device's connectivity; returns the changes, recorded as device events. */
export async function sweepStatus(db: Db, now: Date): Promise<Transition[]> {
  return withSystem(db, async (tx) => {
    // Devices that have never sent anything still get a state row (OFFLINE since they were created).
    await insertMissingDeviceStates(tx);
    const rows = await sweepConnectivity(tx, now, STALE_INTERVALS, OFFLINE_INTERVALS);
    const transitions = rows.map((r) => ({
      tenantId: r.tenant_id,
      deviceId: r.device_id,
      from: r.details.from,
      to: r.details.to,
      lastSeenAt: r.details.last_seen_at ? new Date(r.details.last_seen_at) : null,
    }));
    // One notification per tenant that changed: live views refresh what they show.
    for (const tenant of new Set(transitions.map((t) => t.tenantId))) await notifyChange(tx, STATUS_CHANNEL, tenant);
    return transitions;
  });
}
