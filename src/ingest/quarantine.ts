// Rejected messages: counted at once (per reason on /metrics), and recorded
// in the background — the quarantine log (newest first, bounded per tenant)
// and per-tenant, per-reason counts. Recording is best effort and bounded in
// memory: a flood of garbage must not take the server down with it.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Reason } from "./parse.ts";
import { addRejectionCounts, deleteOldQuarantine, existingTenantIds, insertQuarantine } from "./quarantine-store.ts";

export interface Rejection {
  tenantId?: string;
  deviceId?: string;
  reason: Reason;
  detail: string;
  transport: "mqtt" | "http";
  topic?: string;
  payload?: Uint8Array | string;
  time: Date;
}

export interface Quarantine {
  reject(r: Rejection): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const MAX_PENDING = 5_000;
const PAYLOAD_KEEP = 2_048;
/** How many quarantined messages each tenant keeps. */
export const KEEP_PER_TENANT = 1_000;

export function createQuarantine(opts: { db: Db; log: Logger; metrics: Metrics; flushMs: number }): Quarantine {
  const rejected = opts.metrics.counter("pulse_ingest_rejected_total", "Messages refused, by reason.");
  let pending: Rejection[] = [];
  let dropped = 0;
  let running: Promise<void> | undefined;

  const write = async () => {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    await withSystem(opts.db, async (tx) => {
      const ids = [...new Set(batch.map((r) => r.tenantId).filter((t): t is string => !!t))];
      const existing = await existingTenantIds(tx, ids);
      // Rows for tenants that do not exist are kept without a tenant (operators see them).
      const t = (r: Rejection) => (r.tenantId && existing.has(r.tenantId) ? r.tenantId : null);
      await insertQuarantine(
        tx,
        batch.map((r) => ({
          tenant_id: t(r),
          device_id: r.deviceId ?? null,
          time: r.time,
          reason: r.reason,
          transport: r.transport,
          topic: r.topic?.slice(0, 300) ?? null,
          detail: r.detail.slice(0, 500),
          payload: snippet(r.payload),
        })),
      );
      const counts = new Map<string, { tenant: string; reason: string; n: number }>();
      for (const r of batch) {
        const tenant = t(r);
        if (!tenant) continue;
        const k = `${tenant}\u0000${r.reason}`;
        const c = counts.get(k) ?? { tenant, reason: r.reason, n: 0 };
        c.n++;
        counts.set(k, c);
      }
      if (counts.size) await addRejectionCounts(tx, [...counts.values()]);
    });
  };

  const flush = (): Promise<void> => {
    running ??= write()
      .catch((err) => opts.log.error("ingest: could not record rejected messages", { error: err }))
      .finally(() => {
        running = undefined;
        if (dropped) {
          opts.log.warn("ingest: rejected messages arrived faster than they could be recorded; counted but not kept", { dropped });
          dropped = 0;
        }
      });
    return running;
  };

  const timer = setInterval(() => void flush(), opts.flushMs);
  timer.unref();

  return {
    reject(r) {
      rejected.inc({ reason: r.reason });
      if (pending.length >= MAX_PENDING) {
        dropped++;
        return;
      }
      pending.push(r);
    },
    flush: async () => {
      await running;
      await flush();
    },
    stop: async () => {
      clearInterval(timer);
      await running;
      await flush();
    },
  };
}

function snippet(p: Uint8Array | string | undefined): string | null {
  if (p === undefined) return null;
  const s = typeof p === "string" ? p.slice(0, PAYLOAD_KEEP) : new TextDecoder("utf-8", { fatal: false }).decode(p.subarray(0, PAYLOAD_KEEP));
  // Tokens are secrets: never keep one in the quarantine log, not even the
  // start of one that the snippet's cut (or the batch's) left unterminated.
  return s.replace(/("provision_token"\s*:\s*")(?:[^"\\]|\\.)*(?:"|\\?$)/g, '$1****"');
}

/** Keep each tenant's newest KEEP_PER_TENANT rows (leader job). */
export async function pruneQuarantine(db: Db): Promise<number> {
  return withSystem(db, (tx) => deleteOldQuarantine(tx, KEEP_PER_TENANT));
}
