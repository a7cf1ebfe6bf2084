// SQL behind the ingest registry's cache (registry.ts): everything ingest
// checks about one device, in one query, read in the system scope.

import type { Sql } from "../db/db.ts";

export interface DeviceAuthRow {
  tenant_status: "ACTIVE" | "SUSPENDED" | "DELETED";
  device_status: "ACTIVE" | "PENDING" | "REVOKED" | null;
  site_id: string | null;
  tags: Record<string, string> | null;
  parent_device_id: string | null;
  over_limit: boolean | null;
  tokens: Array<{ id: string; hash: string; expires_at: string | null }> | null;
}

/**
 * The tenant's status and, when the device exists, its status, site, tags,
 * parent, whether it is beyond the tenant's device limit (the newest active
 * devices are) and its unrevoked tokens. Undefined when there is no such
 * tenant; the device columns are null when the device does not exist.
 */
export async function findDeviceAuth(sql: Sql, tenantId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
  const [row] = await sql.query<DeviceAuthRow>(
    `select t.status as tenant_status, d.status as device_status, d.site_id, d.tags, d.parent_device_id,
                (t.device_limit is not null and d.status = 'ACTIVE' and
                  (select count(*) from devices o where o.tenant_id = d.tenant_id and o.status = 'ACTIVE'
                     and (o.created_at, o.id) < (d.created_at, d.id)) >= t.device_limit) as over_limit,
                (select json_agg(json_build_object('id', k.id, 'hash', k.token_hash, 'expires_at', k.expires_at))
                   from device_tokens k where k.tenant_id = d.tenant_id and k.device_id = d.id and k.revoked_at is null) as tokens
           from tenants t left join devices d on d.tenant_id = t.id and d.id = $2
          where t.id = $1`,
    [tenantId, deviceId],
  );
  return row;
}
