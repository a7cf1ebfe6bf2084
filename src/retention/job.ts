// Retention: a daily leader job that deletes what has outlived its use —
// delivered and dead notifications, throttle markers, device events, closed
// alerts, expired activation codes and invites, and old audit entries — each
// after the number of days `retention.*` in config says.
//
// Deletes run in batches, one short transaction each, so a large backlog
// (the first run on an old installation) never holds long locks or stalls
// PGlite's single thread. Telemetry, quarantine and identity tokens have their
// own jobs (telemetry-partitions, quarantine-prune, auth-cleanup).

import { recordAudit } from "../audit/service.ts";
import type { Config } from "../config.ts";
import type { Db, Sql } from "../db/db.ts";
import { asOwner, withSystem } from "../db/scope.ts";
import type { Job } from "../jobs/scheduler.ts";
import type { Clock } from "../lib/clock.ts";
import { SYSTEM_ACTOR } from "../lib/ctx.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import {
  deleteAuditEntries,
  deleteClosedAlerts,
  deleteDeadOutbox,
  deleteDeliveredOutbox,
  deleteDeviceEvents,
  deleteExpiredActivationCodes,
  deleteExpiredInvites,
  deleteThrottleMarks,
} from "./store.ts";

const DAY_MS = 86_400_000;

/** Rows one statement deletes at most. */
export const BATCH_ROWS = 5000;

/** Days each kind of row is kept; 0 = forever (where config allows it). */
export interface RetentionPolicy {
  outboxDeliveredDays: number;
  outboxDeadDays: number;
  notificationThrottleDays: number;
  deviceEventsDays: number;
  closedAlertsDays: number;
  expiredCodesDays: number;
  auditDays: number;
}

export interface RetentionDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

/** The policy config asks for. */
export function retentionPolicy(config: Config): RetentionPolicy {
  return {
    outboxDeliveredDays: config["retention.outbox_delivered_days"],
    outboxDeadDays: config["retention.outbox_dead_days"],
    notificationThrottleDays: config["retention.notification_throttle_days"],
    deviceEventsDays: config["retention.device_events_days"],
    closedAlertsDays: config["retention.closed_alerts_days"],
    expiredCodesDays: config["retention.expired_codes_days"],
    auditDays: config["retention.audit_days"],
  };
}

interface Step {
  table: string;
  days: (p: RetentionPolicy) => number;
  remove: (sql: Sql, before: Date, limit: number) => Promise<number>;
  /**
   * Every table here is under RLS and needs the system scope; audit_log also
   * has a trigger that refuses pulse_app any delete, so it runs as the owner.
   */
  owner?: boolean;
}

const STEPS: readonly Step[] = [
  { table: "notification_outbox", days: (p) => p.outboxDeliveredDays, remove: deleteDeliveredOutbox },
  { table: "notification_outbox", days: (p) => p.outboxDeadDays, remove: deleteDeadOutbox },
  { table: "notification_throttle", days: (p) => p.notificationThrottleDays, remove: deleteThrottleMarks },
  { table: "device_events", days: (p) => p.deviceEventsDays, remove: deleteDeviceEvents },
  { table: "alerts", days: (p) => p.closedAlertsDays, remove: deleteClosedAlerts },
  { table: "activation_codes", days: (p) => p.expiredCodesDays, remove: deleteExpiredActivationCodes },
  { table: "invites", days: (p) => p.expiredCodesDays, remove: deleteExpiredInvites },
  { table: "audit_log", days: (p) => p.auditDays, remove: deleteAuditEntries, owner: true },
];

const deletedCounter = (metrics: Metrics) => metrics.counter("pulse_retention_deleted_total", "Rows deleted by the retention job, by table.");

/**
 * Delete every row past its retention; returns the rows deleted per table
 * (children that go by cascade — delivery attempts, alert events — not counted).
 * A failing table is logged and the others still run; the run then fails.
 */
export async function runRetention(deps: RetentionDeps, policy: RetentionPolicy, opts: { batchRows?: number } = {}): Promise<Record<string, number>> {
  const limit = opts.batchRows ?? BATCH_ROWS;
  const deleted = deletedCounter(deps.metrics);
  const now = deps.clock.now();
  const counts: Record<string, number> = {};
  const failures: Array<{ table: string; error: unknown }> = [];

  for (const step of STEPS) {
    const days = step.days(policy);
    if (days <= 0) continue; // kept forever
    const before = new Date(now.getTime() - days * DAY_MS);
    const scope = step.owner ? asOwner : withSystem;
    let total = 0;
    try {
      for (;;) {
        const n = await scope(deps.db, (tx) => step.remove(tx, before, limit));
        total += n;
        // Counted per batch, so a run that fails half-way still shows what it did.
        if (n) deleted.inc({ table: step.table }, n);
        if (n < limit) break;
      }
      if (step.table === "audit_log" && total) {
        // Removing audit entries is itself on the record (and this entry is new, so it stays).
        await recordAudit(deps, { tenantId: null, actor: SYSTEM_ACTOR, action: "audit.pruned", details: { before: before.toISOString(), deleted: total } });
      }
    } catch (error) {
      deps.log.error("retention: cannot delete old rows", { table: step.table, error });
      failures.push({ table: step.table, error });
    }
    counts[step.table] = (counts[step.table] ?? 0) + total;
  }

  const removed = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  if (Object.keys(removed).length) deps.log.info("retention: old rows deleted", { deleted: removed });
  else deps.log.debug("retention: nothing to delete");
  if (failures.length) {
    throw new Error(`retention: could not clean ${failures.map((f) => f.table).join(", ")}`, { cause: failures[0]!.error });
  }
  return counts;
}

/** The daily leader-only job, registered with the other jobs in app.ts. */
export function retentionJob(deps: RetentionDeps & { config: Config }): Job {
  const policy = retentionPolicy(deps.config);
  deletedCounter(deps.metrics); // on /metrics from the start, not only after the first night
  return {
    name: "retention",
    leaderOnly: true,
    // After tenant-purge (03:30), away from the hour's other jobs.
    cron: "0 45 3 * * *",
    run: async () => {
      await runRetention(deps, policy);
    },
  };
}
