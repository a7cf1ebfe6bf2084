// Periodic jobs on croner. A job never overlaps itself; leader-only jobs run
// only while this node leads. Every run is counted and timed in /metrics, and
// a failing run is logged and retried at the next tick, never fatal.

import { Cron } from "croner";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Leader } from "./leader.ts";

export interface Job {
  name: string;
  /** Run every N seconds… */
  everySeconds?: number;
  /** …or on a cron pattern (with seconds), in UTC. */
  cron?: string;
  /** Singletons across nodes (sweeps, escalation) run only on the leader. */
  leaderOnly: boolean;
  /** Also run once as soon as the scheduler starts (or this node becomes leader). */
  runAtStart?: boolean;
  run(): Promise<void>;
}

export interface Scheduler {
  /** Run a job now (or join the run in progress), waiting for it; rejects when the run fails (tests, CLI). */
  runNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function startScheduler(opts: { jobs: Job[]; leader: Leader; log: Logger; metrics: Metrics }): Scheduler {
  const { leader, log, metrics } = opts;
  const runs = metrics.counter("pulse_job_runs_total", "Scheduled job runs by result.");
  const duration = metrics.histogram("pulse_job_duration_seconds", "Time a scheduled job run takes.");
  const running = new Map<string, Promise<void>>();

  for (const job of opts.jobs) {
    if (!job.cron && !job.everySeconds) throw new Error(`jobs: ${job.name} needs everySeconds or cron`);
  }

  /** Start the job unless it is running; either way, the run's outcome (runNow rethrows a failure). */
  const execute = (job: Job): Promise<void> => {
    const inFlight = running.get(job.name);
    if (inFlight) return inFlight;
    const started = performance.now();
    const p = Promise.resolve()
      .then(() => job.run()) // a run() that throws before its first await is a failure like any other
      .then(
        () => {
          runs.inc({ job: job.name, result: "ok" });
        },
        (err) => {
          runs.inc({ job: job.name, result: "error" });
          log.error("job failed", { job: job.name, error: err });
          throw err;
        },
      )
      .finally(() => {
        duration.observe((performance.now() - started) / 1000, { job: job.name });
        running.delete(job.name);
      });
    running.set(job.name, p);
    p.catch(() => {}); // scheduled runs: logged and counted above, retried at the next tick
    return p;
  };

  const tick = (job: Job) => () => {
    if (job.leaderOnly && !leader.isLeader()) return;
    void execute(job);
  };

  const crons = opts.jobs.map((job) => {
    const pattern = job.cron ?? "* * * * * *";
    return new Cron(pattern, { timezone: "UTC", interval: job.everySeconds, unref: true, catch: true }, tick(job));
  });
  let stopped = false;
  for (const job of opts.jobs.filter((j) => j.runAtStart)) {
    if (job.leaderOnly) void leader.elected().then(() => (stopped ? undefined : execute(job))).catch(() => {});
    else void execute(job);
  }

  return {
    runNow: async (name) => {
      const job = opts.jobs.find((j) => j.name === name);
      if (!job) throw new Error(`jobs: no job named ${name}`);
      await execute(job);
    },
    stop: async () => {
      stopped = true;
      for (const c of crons) c.stop();
      await Promise.allSettled(running.values());
    },
  };
}
