// SQL of the connectivity sweep (status-sweep.ts), in its system-scope
// transaction: state rows for devices that have none, then one statement that
// moves every changed device to its new connectivity and records the change
// as a device event.

import type { Sql } from "../db/db.ts";

export type Connectivity = "ONLINE" | "STALE" | "OFFLINE";

export interface StatusChangeRow {
  tenant_id: string;
  device_id: string;
  details: { from: Connectivity; to: Connectivity; last_seen_at: string | null };
}

/** A state row, OFFLINE since the device was created, for every active device that has none. */
export async function insertMissingDeviceStates(sql: Sql): Promise<void> {
  await sql.query(
    `insert into device_state (tenant_id, device_id, connectivity, connectivity_since)
       select d.tenant_id, d.id, 'OFFLINE', d.created_at from devices d
        where d.status = 'ACTIVE' and not exists (select 1 from device_state s where s.tenant_id = d.tenant_id and s.device_id = d.id)`,
  );
}

/**
 * ONLINE while seen within `staleIntervals` heartbeats (the device's own
 * interval, else its tenant's), STALE up to `offlineIntervals`, then OFFLINE;
 * active devices of active tenants only. Returns the STATUS_CHANGED events
 * written, one per device whose connectivity changed.
 */
export async function sweepConnectivity(sql: Sql, now: Date, staleIntervals: number, offlineIntervals: number): Promise<StatusChangeRow[]> {
  return sql.query<StatusChangeRow>(
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
    [now, staleIntervals, offlineIntervals],
  );
}
