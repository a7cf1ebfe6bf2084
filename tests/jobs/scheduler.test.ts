// The scheduler: a job never runs twice at once, runNow waits for the run,
// a failing run is counted and logged and the next tick runs again, and
// leader-only jobs run only where the (here fake) leader election says so.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Leader } from "../../src/jobs/leader.ts";
import { startScheduler, type Job, type Scheduler } from "../../src/jobs/scheduler.ts";
import { createLogger, silentLogger, type Logger } from "../../src/lib/logger.ts";
import { createMetrics, type Metrics } from "../../src/lib/metrics.ts";

// Some tests wait on real ticks (seconds); a busy machine stretches them.
setDefaultTimeout(60_000);

/** A leader election the test decides: a follower until elect() is called. */
function fakeLeader(): Leader & { elect(): void } {
  let leading = false;
  let resolve!: () => void;
  const elected = new Promise<void>((r) => (resolve = r));
  return {
    isLeader: () => leading,
    elected: () => elected,
    stop: async () => {
      leading = false;
    },
    elect: () => {
      leading = true;
      resolve();
    },
  };
}

/** A job that counts its runs and how many were in flight at once. */
function countingJob(name: string, opts: Partial<Job> & { takesMs?: number; fails?: (run: number) => boolean } = {}) {
  const stats = { started: 0, finished: 0, active: 0, maxActive: 0 };
  const job: Job = {
    name,
    leaderOnly: false,
    everySeconds: 1,
    ...opts,
    run: async () => {
      const run = ++stats.started;
      stats.active++;
      stats.maxActive = Math.max(stats.maxActive, stats.active);
      try {
        await Bun.sleep(opts.takesMs ?? 0);
        if (opts.fails?.(run)) throw new Error(`${name}: run ${run} failed`, { cause: new Error("device registry unreachable") });
      } finally {
        stats.active--;
        stats.finished++;
      }
    },
  };
  return { job, stats };
}

async function within(ms: number, condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}

describe("the scheduler", () => {
  let scheduler: Scheduler | undefined;
  let metrics: Metrics;
  const start = (jobs: Job[], leader: Leader = fakeLeader(), log: Logger = silentLogger()) => {
    metrics = createMetrics();
    scheduler = startScheduler({ jobs, leader, log, metrics });
    return scheduler;
  };
  const runs = (job: string, result: "ok" | "error") => metrics.counter("pulse_job_runs_total", "").get({ job, result });
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  test("runNow waits for the run to finish", async () => {
    const { job, stats } = countingJob("report", { cron: "0 0 0 1 1 *", everySeconds: undefined, takesMs: 200 });
    const s = start([job]);
    await s.runNow("report");
    expect(stats).toMatchObject({ started: 1, finished: 1 });
    expect(runs("report", "ok")).toBe(1);
  });

  test("a job never overlaps itself: ticks and runNow calls during a run join that run", async () => {
    const { job, stats } = countingJob("sweep", { takesMs: 1300, runAtStart: true });
    const s = start([job]);
    await Bun.sleep(50);
    expect(stats.started).toBe(1);
    await Promise.all([s.runNow("sweep"), s.runNow("sweep"), s.runNow("sweep")]);
    expect(stats.finished).toBe(1);

    // The ticks that fell inside the run were skipped; the next one starts a new run.
    await within(3000, () => stats.started === 2, "the next tick runs the job again");
    expect(stats.maxActive).toBe(1);
  });

  test("a failing run is counted and logged with its cause, and the next tick runs again", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(JSON.parse(l)) });
    const { job, stats } = countingJob("escalate", { runAtStart: true, fails: (run) => run === 1 });
    start([job], fakeLeader(), log);

    await within(3000, () => stats.finished >= 2, "a second run after the failure");
    expect(runs("escalate", "error")).toBe(1);
    expect(runs("escalate", "ok")).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatchObject({
      level: "error",
      msg: "job failed",
      job: "escalate",
      error: { message: "escalate: run 1 failed", cause: { message: "device registry unreachable" } },
    });
    const text = metrics.render();
    expect(text).toContain('pulse_job_runs_total{job="escalate",result="error"} 1');
    expect(text).toMatch(/pulse_job_duration_seconds_count\{job="escalate"\} [1-9]/);
  });

  test("runNow reports a failed run to its caller", async () => {
    const { job } = countingJob("purge", { cron: "0 0 0 1 1 *", everySeconds: undefined, fails: () => true });
    const s = start([job]);
    await expect(s.runNow("purge")).rejects.toThrow("purge: run 1 failed");
    expect(runs("purge", "error")).toBe(1);
    await expect(s.runNow("nothing-like-it")).rejects.toThrow("jobs: no job named nothing-like-it");
  });

  test("a job without a schedule is refused at start", () => {
    const { job } = countingJob("lost", { everySeconds: undefined });
    expect(() => start([job])).toThrow("jobs: lost needs everySeconds or cron");
  });

  test("leader-only jobs wait on a follower and start once the node is elected", async () => {
    const leader = fakeLeader();
    const atStart = countingJob("partitions", { leaderOnly: true, runAtStart: true, cron: "0 0 0 1 1 *", everySeconds: undefined });
    const ticking = countingJob("heartbeat-sweep", { leaderOnly: true });
    const everywhere = countingJob("local-cache", { runAtStart: true, cron: "0 0 0 1 1 *", everySeconds: undefined });
    start([atStart.job, ticking.job, everywhere.job], leader);

    await Bun.sleep(1500); // at least one tick
    expect(atStart.stats.started).toBe(0);
    expect(ticking.stats.started).toBe(0);
    expect(everywhere.stats.started).toBe(1);

    leader.elect();
    await within(1000, () => atStart.stats.finished === 1, "the start-up job runs on election");
    await within(2000, () => ticking.stats.started >= 1, "the ticking job runs at its next tick");
    expect(atStart.stats.started).toBe(1);
  });

  test("stop waits for the run in flight and no run starts afterwards", async () => {
    const { job, stats } = countingJob("export", { takesMs: 400, runAtStart: true });
    const s = start([job]);
    await Bun.sleep(50);
    await s.stop();
    expect(stats).toMatchObject({ started: 1, finished: 1, active: 0 });
    await Bun.sleep(1200);
    expect(stats.started).toBe(1);
  });
});
