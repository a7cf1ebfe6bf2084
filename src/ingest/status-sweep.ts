// Device connectivity from last_seen and the heartbeat interval (PROTOCOL.md
// "Status"): ONLINE while seen within 2 intervals, STALE after that, OFFLINE
// after 5. The leader sweeps every few seconds; each change is a device event
// (alerting turns OFFLINE into NO_HEARTBEAT) and a notification for live views.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";

export const STALE_INTERVALS = 2;
export const OFFLINE_INTERVALS = 5;
export const STATUS_CHANNEL = "pulse_device_status";

export interface Transition {
  tenantId: string;
  deviceId: string;
  from: "ONLINE" | "STALE" | "OFFLINE";
  to: "ONLINE" | "STALE" | "OFFLINE";
  lastSeenAt: Date | null;
}

/** Recompute every active device's connectivity; returns the changes, recorded as device events. */
export async function sweepStatus(db: Db, now: Date): Promise<Transition[]> {
  return withSystem(db, async (tx) => {
    // Devices that have never sent anything still get a state row (OFFLINE since they were created).
    await tx.query(
      `insert into device_state (tenant_id, device_id, connectivity, connectivity_since)
       select d.tenant_id, d.id, 'OFFLINE', d.created_at from devices d
        where d.status = 'ACTIVE' and not exists (select 1 from device_state s where s.tenant_id = d.tenant_id and s.device_id = d.id)`,
    );
    const rows = await tx.query<{ tenant_id: string; device_id: string; details: { from: Transition["from"]; to: Transition["to"]; last_seen_at: string | null } }>(
      `with desired as (
         select s.tenant_id, s.device_id, s.connectivity as old, s.last_seen_at,
                case when s.last_seen_at > $1::timestamptz - make_interval(secs => $2 * coalesce(d.heartbeat_seconds, t.heartbeat_seconds)) then 'ONLINE'
                     when s.last_seen_at > $1::timestamptz - make_interval(secs => $3 * coalesce(d.heartbeat_seconds, t.heartbeat_seconds)) then 'STALE'
                     else 'OFFLINE' end as new
           from device_state s
           join devices d on d.tenant_id = s.tenant_id and d.id = s.device_id and d.status = 'ACTIVE'
           join tenants t on t.id = s.tenant_id and t.status = 'ACTIVE'
       ), changed as (
         update device_state s set connectivity = desired.new, connectivity_since = $1
           from desired
          where s.tenant_id = desired.tenant_id and s.device_id = desired.device_id and desired.new <> desired.old
         returning s.tenant_id, s.device_id, desired.old, desired.new, desired.last_seen_at
       )
       insert into device_events (tenant_id, device_id, time, kind, details)
       select tenant_id, device_id, $1, 'STATUS_CHANGED', jsonb_build_object('from', old, 'to', new, 'last_seen_at', last_seen_at) from changed
       returning tenant_id, device_id, details`,
      [now, STALE_INTERVALS, OFFLINE_INTERVALS],
    );
    const transitions = rows.map((r) => ({
      tenantId: r.tenant_id,
      deviceId: r.device_id,
      from: r.details.from,
      to: r.details.to,
      lastSeenAt: r.details.last_seen_at ? new Date(r.details.last_seen_at) : null,
    }));
    // One notification per tenant that changed: live views refresh what they show.
    for (const tenant of new Set(transitions.map((t) => t.tenantId))) await tx.query("select pg_notify($1, $2)", [STATUS_CHANNEL, tenant]);
    return transitions;
  });
}
