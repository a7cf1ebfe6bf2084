// Process-level gauges for /metrics: memory, CPU, start time, event-loop lag,
// build info. Event-loop lag matters most here: PGlite and ingest share the
// JavaScript thread, and lag is how a stall shows up.

import type { Metrics } from "./metrics.ts";
import { COMMIT, VERSION } from "./version.ts";

export function registerProcessMetrics(metrics: Metrics, startedAt: Date): () => void {
  metrics.collect("pulse_build_info", "Version of this Pulse (value is always 1).", () => [[1, { version: VERSION, commit: COMMIT }]]);
  metrics.collect("process_start_time_seconds", "Start time of the process since the Unix epoch.", () => startedAt.getTime() / 1000);
  metrics.collect("process_resident_memory_bytes", "Resident memory size.", () => process.memoryUsage.rss());
  metrics.collect("process_heap_bytes", "JavaScript heap in use.", () => process.memoryUsage().heapUsed);
  metrics.collect("process_cpu_seconds_total", "User and system CPU time spent.", () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }, "counter");

  let lag = 0;
  const intervalMs = 500;
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(0, now - expected) / 1000;
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  metrics.collect("pulse_event_loop_lag_seconds", "How late the last timer tick fired.", () => lag);
  return () => clearInterval(timer);
}
