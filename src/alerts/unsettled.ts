// The devices whose messages the engine has taken in and not finished
// judging, counted per (tenant, device). While a device has any, its later
// messages queue behind them rather than being settled at once from the
// index (a recovery must not be judged against the state its crossing is
// about to change). Nested maps: no joined key to build and hash per message.

import type { Accepted } from "../ingest/writer.ts";

export interface Unsettled {
  has(tenantId: string, deviceId: string): boolean;
  /** One more message of the device waits. */
  add(tenantId: string, deviceId: string): void;
  /** These messages were judged (or failed to be). */
  settle(batch: readonly Accepted[]): void;
}

export function createUnsettled(): Unsettled {
  const byTenant = new Map<string, Map<string, number>>();
  return {
    has: (tenantId, deviceId) => byTenant.get(tenantId)?.has(deviceId) ?? false,
    add(tenantId, deviceId) {
      let devices = byTenant.get(tenantId);
      if (!devices) byTenant.set(tenantId, (devices = new Map()));
      devices.set(deviceId, (devices.get(deviceId) ?? 0) + 1);
    },
    settle(batch) {
      for (const { env } of batch) {
        const devices = byTenant.get(env.tenantId);
        const n = devices?.get(env.deviceId);
        if (!devices || n === undefined) continue;
        if (n > 1) devices.set(env.deviceId, n - 1);
        else {
          devices.delete(env.deviceId);
          if (devices.size === 0) byTenant.delete(env.tenantId);
        }
      }
    },
  };
}
