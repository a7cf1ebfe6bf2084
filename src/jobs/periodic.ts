// The periodic jobs every node schedules (most run only on the leader): what
// runs when, in one list. Each job's work lives with its feature; this file
// only says when.

import type { Auth } from "../auth/index.ts";
import { cleanupAuth } from "../auth/cleanup.ts";
import type { Engine } from "../alerts/engine.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/db.ts";
import type { DbInfo } from "../db/open.ts";
import { maintainPartitions } from "../db/partitions.ts";
import { applyTimescalePolicies } from "../db/timescale.ts";
import type { EscalationWorker } from "../escalation/worker.ts";
import { pruneQuarantine } from "../ingest/quarantine.ts";
import { sweepStatus } from "../ingest/status-sweep.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { retentionJob } from "../retention/job.ts";
import { purgeTenants } from "../tenants/service.ts";
import type { Job } from "./scheduler.ts";

export interface PeriodicDeps {
  db: Db;
  dbInfo: DbInfo;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  config: Config;
  auth: Auth;
  engine: Engine;
  escalation: EscalationWorker;
}

export function periodicJobs(deps: PeriodicDeps): Job[] {
  const { db, dbInfo, clock, log, metrics, config, auth, engine, escalation } = deps;
  return [
    {
      name: "device-status-sweep",
      leaderOnly: true,
      everySeconds: config["devices.status_sweep_seconds"],
      run: async () => {
        const changes = await sweepStatus(db, clock.now());
        if (changes.length) log.debug("device connectivity changed", { count: changes.length });
        await engine.checkHeartbeats();
      },
    },
    {
      name: "alert-deadlines",
      leaderOnly: true,
      everySeconds: 5,
      run: async () => {
        await engine.checkDeadlines();
      },
    },
    {
      name: "escalations",
      leaderOnly: true,
      everySeconds: 5,
      run: async () => {
        await escalation.run();
      },
    },
    {
      name: "quarantine-prune",
      leaderOnly: true,
      cron: "0 */10 * * * *",
      run: async () => {
        await pruneQuarantine(db);
      },
    },
    {
      name: "auth-cleanup",
      leaderOnly: true,
      cron: "0 17 * * * *",
      run: () => cleanupAuth(auth),
    },
    {
      name: "signing-key-rotation",
      leaderOnly: true,
      runAtStart: true,
      cron: "0 0 3 * * *",
      run: async () => {
        await auth.keys.signingKey();
      },
    },
    {
      name: "tenant-purge",
      leaderOnly: true,
      cron: "0 30 3 * * *",
      run: async () => {
        const purged = await purgeTenants({ db, clock });
        if (purged.length) log.info("tenants purged after their grace period", { tenants: purged });
      },
    },
    retentionJob({ db, clock, log, metrics, config }),
    dbInfo.timescale.hypertable
      ? {
          name: "telemetry-policies",
          leaderOnly: true,
          runAtStart: true,
          cron: "0 0 0 * * *",
          run: () => applyTimescalePolicies(db, config["telemetry.retention_days"], config["telemetry.compress_after_days"]),
        }
      : {
          name: "telemetry-partitions",
          leaderOnly: true,
          runAtStart: true,
          cron: "0 5 * * * *",
          run: async () => {
            const r = await maintainPartitions(db, { now: clock.now(), retentionDays: config["telemetry.retention_days"] });
            if (r.created.length || r.dropped.length) log.info("telemetry partitions maintained", { created: r.created.length, dropped: r.dropped });
          },
        },
  ];
}
