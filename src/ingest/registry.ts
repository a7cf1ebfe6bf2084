// What ingest needs to know about a device on every message — does it exist,
// is it revoked, which site, which tokens are valid, is its tenant active —
// cached in memory so the hot path does no queries. Entries are dropped when
// the registry changes (LISTEN/NOTIFY on every node) and expire after a
// minute regardless; unknown devices are remembered briefly too, so a flood
// from an unregistered device costs one query every few seconds.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import { sha256Hex } from "../lib/ids.ts";
import { findDeviceAuth } from "./registry-store.ts";

export interface DeviceAuth {
  tenantId: string;
  deviceId: string;
  tenantStatus: "ACTIVE" | "SUSPENDED" | "DELETED";
  /** undefined when the tenant exists but the device does not. */
  device?: {
    status: "ACTIVE" | "PENDING" | "REVOKED";
    siteId: string;
    /** For rule scopes (alerting). */
    tags: Record<string, string>;
    parentId: string | null;
    /** Beyond the tenant's device limit (the newest devices are). */
    overLimit: boolean;
    tokens: Array<{ id: string; hash: string; expiresAt: number | null }>;
  };
}

const TTL_MS = 60_000;
const NEGATIVE_TTL_MS = 5_000;

export interface Registry {
  /** undefined: no such tenant. */
  get(tenantId: string, deviceId: string): Promise<DeviceAuth | undefined>;
  /** Drop cached entries of one device, or of a whole tenant. */
  invalidate(tenantId: string, deviceId?: string): void;
  size(): number;
}

/** The id of the device's token that matches, if any is valid now. */
export function matchToken(auth: DeviceAuth, token: string, nowMs: number): string | undefined {
  const d = auth.device;
  if (!d || d.tokens.length === 0) return undefined;
  const hash = sha256Hex(token);
  return d.tokens.find((t) => t.hash === hash && (t.expiresAt === null || t.expiresAt > nowMs))?.id;
}

export function createRegistry(deps: { db: Db; now: () => number }): Registry {
  const cache = new Map<string, { value: DeviceAuth | undefined; until: number }>();
  const inflight = new Map<string, Promise<DeviceAuth | undefined>>();
  // Bumped by every invalidation: a lookup that was in flight meanwhile may
  // have read the registry before the change, so its answer is not cached.
  let epoch = 0;

  const load = async (tenantId: string, deviceId: string): Promise<DeviceAuth | undefined> => {
    const row = await withSystem(deps.db, (tx) => findDeviceAuth(tx, tenantId, deviceId));
    if (!row) return undefined;
    return {
      tenantId,
      deviceId,
      tenantStatus: row.tenant_status,
      device: row.device_status
        ? {
            status: row.device_status,
            siteId: row.site_id!,
            tags: row.tags ?? {},
            parentId: row.parent_device_id,
            overLimit: row.over_limit === true,
            tokens: (row.tokens ?? []).map((t) => ({ id: t.id, hash: t.hash, expiresAt: t.expires_at ? Date.parse(t.expires_at) : null })),
          }
        : undefined,
    };
  };

  return {
    async get(tenantId, deviceId) {
      const key = `${tenantId}/${deviceId}`;
      const hit = cache.get(key);
      const now = deps.now();
      if (hit && hit.until > now) return hit.value;
      let p = inflight.get(key);
      if (!p) {
        const started = epoch;
        const q: Promise<DeviceAuth | undefined> = load(tenantId, deviceId)
          .then((value) => {
            if (epoch === started) cache.set(key, { value, until: now + (value?.device ? TTL_MS : NEGATIVE_TTL_MS) });
            return value;
          })
          .finally(() => {
            if (inflight.get(key) === q) inflight.delete(key);
          });
        p = q;
        inflight.set(key, p);
      }
      return p;
    },
    invalidate(tenantId, deviceId) {
      epoch++;
      // Lookups in flight are dropped too, so the next message asks afresh.
      for (const m of [cache, inflight]) {
        if (deviceId) m.delete(`${tenantId}/${deviceId}`);
        else for (const k of m.keys()) if (k.startsWith(`${tenantId}/`)) m.delete(k);
      }
    },
    size: () => cache.size,
  };
}
