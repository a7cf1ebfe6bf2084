// Ingest benchmark: how many device messages a second Pulse commits, and how
// long publish→commit takes. Not a test: it prints figures.
//
//   bun tests/bench/ingest.ts [--db postgres|pglite] [--transport mqtt|http]
//       [--qos 0|1] [--seconds N] [--warmup N] [--publishers P] [--devices D]
//       [--rate R] [--half] [--window W] [--batch B] [--concurrency C]
//       [--baseline-seconds N | --no-baseline] [--probe-rate R]
//       [--env PULSE_KEY=value,...] [--cpu-prof DIR]
//
// What it does:
// 1. a fresh database (Postgres on 127.0.0.1:5432, or a temp PGlite data dir),
//    a tenant and D devices with tokens seeded directly in SQL;
// 2. the baseline: raw COPY (Postgres; postgres.js COPY FROM STDIN, batches of
//    5000) or multi-row INSERT (PGlite, in this process) of the same rows into
//    the same telemetry table, before and after the Pulse run;
// 3. Pulse as a child process (`bun src/main.ts serve`) on free ports;
// 4. P publisher processes, D connections between them (one per device,
//    credentials tenant/device + token), publishing as fast as the sockets
//    allow (or at --rate msgs/s in total), QoS 0 or 1 (window W per connection);
//    with QoS 0 a low-rate QoS 1 probe measures publish→commit alongside;
// 5. after a warm-up, the steady-state window: committed msgs/s from
//    /metrics pulse_ingest_committed_total, p50/p99 publish→commit, CPU of
//    Pulse, of the load generators and of the database's backends (from /proc),
//    Pulse's RSS;
// 6. --half: then again at half the measured maximum, for latency there
//    (each phase on an emptied telemetry table, with a Pulse and publishers of
//    its own: a QoS 0 flood leaves the sockets' kernel buffers full);
// 7. as the box is shared, also CPU per message (Pulse, load generators,
//    Postgres backends, from /proc) and what that projects to on 2 idle cores.
//
// --transport http: POST /ingest/v1/batch with --batch messages each,
// --concurrency requests in flight per publisher process (default 8).

import { cpuOf, cpuSeconds, backendPids, withOwner, type PulseChild, copyBaseline, createBenchDb, flag, fmt, histCount, log, mergeReports, num, percentile, pgliteBaseline, rssBytes, scrape, seedDevices, spawnPublisher, startPulse, TENANT, type DbKind, type PublisherHandle } from "./lib.ts";

const args = process.argv.slice(2);
const dbKind = (flag(args, "db") ?? "postgres") as DbKind;
const transport = (flag(args, "transport") ?? "mqtt") as "mqtt" | "http";
const qos = num(args, "qos", 0) as 0 | 1;
const seconds = num(args, "seconds", 20);
const warmup = num(args, "warmup", 5);
const publishers = num(args, "publishers", 2);
const deviceCount = num(args, "devices", transport === "http" ? 1000 : 200);
const window = num(args, "window", 100);
const fixedRate = num(args, "rate", 0);
const half = flag(args, "half") !== undefined;
const batch = num(args, "batch", 1000);
const concurrency = num(args, "concurrency", 8);
const baselineSeconds = flag(args, "no-baseline") ? 0 : num(args, "baseline-seconds", 8);
const probeRate = num(args, "probe-rate", 20);
const cpuProf = flag(args, "cpu-prof");
const extraEnv = Object.fromEntries(
  (flag(args, "env") ?? "")
    .split(",")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
if (!["postgres", "pglite"].includes(dbKind) || !["mqtt", "http"].includes(transport) || ![0, 1].includes(qos)) {
  console.error("usage: bun tests/bench/ingest.ts [--db postgres|pglite] [--transport mqtt|http] [--qos 0|1] [--seconds N] [--publishers P] [--devices D] [--rate R] [--half]");
  process.exit(2);
}
const label = transport === "http" ? `http batch${batch} ${dbKind}` : `mqtt qos${qos} ${dbKind}`;

interface PhaseResult {
  rate: number;
  committedPerSecond: number;
  sentPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  latencySamples: number;
  latencySource: string;
  pulseCores: number;
  genCores: number;
  pgCores: number;
  rssMb: number;
  rssMaxMb: number;
  queueDepth: number;
  avgBatch: number;
  avgFlushMs: number;
  errors: number;
  dropped: number;
  scrapeMs: number;
  lagMs: number;
}

const METRICS = [
  "pulse_ingest_committed_total",
  "pulse_ingest_flush_seconds_count",
  "pulse_ingest_flush_seconds_sum",
  "pulse_ingest_queue_depth",
  "pulse_ingest_flush_errors_total",
  "pulse_mqtt_dropped_total",
  "pulse_event_loop_lag_seconds",
];

/** A /metrics reading that took at most 250 ms (up to 20 tries; else the quickest one). */
async function quickScrape(url: string, names: string[]): Promise<{ m: Record<string, number>; q: number; t: number }> {
  let best: { m: Record<string, number>; q: number; t: number } | undefined;
  for (let i = 0; i < 20; i++) {
    const q = performance.now();
    const m = await scrape(url, names);
    const t = performance.now();
    if (!best || t - q < best.t - best.q) best = { m, q, t };
    if (t - q <= 250) break;
  }
  return best!;
}

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch((e) => log("cleanup:", e?.message ?? e));
  cleanups.length = 0;
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main() {
  log(`ingest bench: ${label}, ${publishers} publisher processes, ${deviceCount} devices, ${qos ? `window ${window}, ` : ""}warm-up ${warmup} s, window ${seconds} s${fixedRate ? `, rate ${fixedRate}/s` : ""}${half ? ", then half load" : ""}`);
  const bdb = await createBenchDb(dbKind);
  cleanups.push(() => bdb.dispose());
  const devices = await seedDevices(bdb, deviceCount);
  const [probe] = await seedDevices(bdb, 1, "probe");
  log(`seeded tenant ${TENANT} with ${deviceCount + 1} devices`);

  const baselines: number[] = [];
  // CPU (bench process + Postgres backend) per copied row, in core-µs.
  const baselineCpus: number[] = [];
  const runBaseline = async (when: string) => {
    if (!baselineSeconds) return;
    if (dbKind === "postgres") {
      const b = await copyBaseline(bdb, deviceCount, baselineSeconds);
      baselines.push(b.rowsPerSecond);
      baselineCpus.push(((b.cpuCores + b.pgCores) / b.rowsPerSecond) * 1e6);
      log(`baseline (${when}): raw COPY ${fmt(b.rowsPerSecond)} rows/s (bench process ${fmt(b.cpuCores, 2)} cores, postgres backend ${fmt(b.pgCores, 2)} cores)`);
    } else {
      const b = await pgliteBaseline(deviceCount, baselineSeconds);
      baselines.push(b.rowsPerSecond);
      log(`baseline (${when}): PGlite multi-row INSERT in-process ${fmt(b.rowsPerSecond)} rows/s`);
    }
  };
  await runBaseline("before");

  // Each phase gets a Pulse and publishers of its own: after a QoS 0 flood
  // the sockets' kernel buffers hold millions of messages that a later phase
  // on the same connections would still be draining.
  const phase = async (name: string, rate: number): Promise<PhaseResult> => {
    // Every phase (and the baseline) writes into an empty telemetry table: a
    // table and index grown by the phase before would make the later one slower.
    await withOwner(bdb, (q) => q("truncate telemetry"));
    const pulse = await startPulse(bdb, { PULSE_DATABASE_POOL_MAX: "4", ...extraEnv }, { cpuProf });
    let pulseStopped = false;
    const stopPulse = async () => {
      if (pulseStopped) return;
      pulseStopped = true;
      const code = await pulse.stop();
      if (code !== 0) log(`pulse exited with ${code} (serve exits 1 when writing out its queue on SIGTERM takes longer than 10 s)`);
      const stderr = pulse.stderr().replace(/Pulse created the operator-admin[^\n]*\n[^\n]*\n[^\n]*\n?/, "").trim();
      if (stderr) log(`pulse stderr (tail):\n${stderr.slice(-1500)}`);
    };
    cleanups.push(stopPulse);
    log(`pulse pid ${pulse.pid} at ${pulse.url}, mqtt ${pulse.mqttPort}, RSS ${fmt(rssBytes(pulse.pid) / 2 ** 20)} MB`);

    // Publishers: devices dealt round-robin.
    const pubs: PublisherHandle[] = [];
    for (let p = 0; p < publishers; p++) {
      const mine = devices.map((d, index) => ({ ...d, index })).filter((_, i) => i % publishers === p);
      const config =
        transport === "mqtt"
          ? { mode: "load", host: "127.0.0.1", port: pulse.mqttPort, tenant: TENANT, devices: mine, qos, window, rate: rate / publishers, keepalive: 60, connectConcurrency: 50, clientPrefix: `pub${p}` }
          : { url: pulse.url, tenant: TENANT, devices: mine, batch, concurrency, rate: rate / publishers };
      const h = spawnPublisher(transport === "mqtt" ? "mqtt-publisher.ts" : "http-publisher.ts", config);
      pubs.push(h);
      cleanups.push(() => h.stop());
    }
    // QoS 0 has no acknowledgement: a low-rate QoS 1 connection measures publish→commit alongside.
    let probePub: PublisherHandle | undefined;
    if (transport === "mqtt" && qos === 0 && probeRate > 0) {
      probePub = spawnPublisher("mqtt-publisher.ts", { mode: "load", host: "127.0.0.1", port: pulse.mqttPort, tenant: TENANT, devices: [{ ...probe!, index: 0 }], qos: 1, window: 100, rate: probeRate, keepalive: 60, connectConcurrency: 1, clientPrefix: "probe" });
      cleanups.push(() => probePub!.stop());
    }
    const all = () => [...pubs, ...(probePub ? [probePub] : [])];
    await Promise.all(all().map((p) => p.ready));
    log(`publishers connected (${transport === "mqtt" ? `${deviceCount} connections` : `${publishers * concurrency} concurrent requests`})`);
    try {
      return await measure(name, rate, pulse, pubs, probePub);
    } finally {
      // Stop the load, then Pulse (it drops what waits in the sockets and writes what it queued).
      await Promise.all(all().map((p) => p.stop()));
      await stopPulse();
    }
  };

  const measure = async (name: string, rate: number, pulse: PulseChild, pubs: PublisherHandle[], probePub: PublisherHandle | undefined): Promise<PhaseResult> => {
    const all = () => [...pubs, ...(probePub ? [probePub] : [])];
    for (const p of all()) p.send({ cmd: "go" });
    log(`${name}: ${rate ? `${fmt(rate)} msg/s offered` : "as fast as possible"}; warm-up ${warmup} s`);
    await Bun.sleep(warmup * 1000);
    for (const p of all()) p.send({ cmd: "mark" });
    const pgPids = await backendPids(bdb);
    const genPids = all().map((p) => p.pid);
    // The counters are read over HTTP; under overload Pulse may answer late, so
    // the time of a reading is taken as the middle of its request, and a
    // reading that took long (wide error bars) is taken again.
    const { m: m0, q: q0, t: t0 } = await quickScrape(pulse.url, METRICS);
    const mid0 = (q0 + t0) / 2;
    const c0 = { pulse: cpuSeconds(pulse.pid), gen: cpuOf(genPids), pg: cpuOf(pgPids) };
    let rssMax = 0;
    const rssSamples: number[] = [];
    let lastCommitted = m0.pulse_ingest_committed_total!;
    let lastAt = t0;
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      await Bun.sleep(Math.min(1000, Math.max(0, end - performance.now())));
      const rss = rssBytes(pulse.pid);
      rssSamples.push(rss);
      rssMax = Math.max(rssMax, rss);
      if (performance.now() - lastAt >= 4000 || performance.now() >= end) {
        const m = await scrape(pulse.url, ["pulse_ingest_committed_total", "pulse_ingest_queue_depth", "pulse_ingest_queue_waiters", "pulse_mqtt_pending_publishes", "pulse_event_loop_lag_seconds"]);
        const now = performance.now();
        log(`  ${fmt((m.pulse_ingest_committed_total! - lastCommitted) / ((now - lastAt) / 1000))} msg/s committed, queue ${fmt(m.pulse_ingest_queue_depth!)} (+${fmt(m.pulse_ingest_queue_waiters!)} waiting, ${fmt(m.pulse_mqtt_pending_publishes!)} mqtt pending), RSS ${fmt(rss / 2 ** 20)} MB, event-loop lag ${fmt(m.pulse_event_loop_lag_seconds! * 1000)} ms`);
        lastCommitted = m.pulse_ingest_committed_total!;
        lastAt = now;
      }
    }
    const { m: m1, q: q1, t: t1 } = await quickScrape(pulse.url, METRICS);
    const mid1 = (q1 + t1) / 2;
    const scrapeMs = Math.max(t0 - q0, t1 - q1);
    const c1 = { pulse: cpuSeconds(pulse.pid), gen: cpuOf(genPids), pg: cpuOf(pgPids) };
    const reports = await Promise.all(pubs.map((p) => p.report()));
    const probeReport = probePub ? await probePub.report() : undefined;
    const secs = (mid1 - mid0) / 1000;
    const load = mergeReports(reports);
    const latencyFrom = probeReport ?? load;
    const committed = m1.pulse_ingest_committed_total! - m0.pulse_ingest_committed_total!;
    const flushes = m1.pulse_ingest_flush_seconds_count! - m0.pulse_ingest_flush_seconds_count!;
    return {
      rate,
      committedPerSecond: committed / secs,
      sentPerSecond: load.sent / secs,
      p50: percentile(latencyFrom.hist, 0.5),
      p99: percentile(latencyFrom.hist, 0.99),
      max: percentile(latencyFrom.hist, 1),
      latencySamples: histCount(latencyFrom.hist),
      latencySource: probeReport ? `QoS 1 probe at ${probeRate}/s` : transport === "http" ? "POST→202 per message" : "publish→PUBACK",
      pulseCores: (c1.pulse - c0.pulse) / secs,
      genCores: (c1.gen - c0.gen) / secs,
      pgCores: (c1.pg - c0.pg) / secs,
      rssMb: rssSamples.at(-1)! / 2 ** 20,
      rssMaxMb: rssMax / 2 ** 20,
      queueDepth: m1.pulse_ingest_queue_depth!,
      avgBatch: flushes ? committed / flushes : 0,
      avgFlushMs: flushes ? ((m1.pulse_ingest_flush_seconds_sum! - m0.pulse_ingest_flush_seconds_sum!) / flushes) * 1000 : 0,
      errors: load.errors + (probeReport?.errors ?? 0),
      dropped: m1.pulse_mqtt_dropped_total! - m0.pulse_mqtt_dropped_total!,
      scrapeMs,
      lagMs: m1.pulse_event_loop_lag_seconds! * 1000,
    };
  };

  const results: Array<[string, PhaseResult]> = [];
  const max = await phase(fixedRate ? "fixed rate" : "max", fixedRate);
  results.push([fixedRate ? `at ${fmt(fixedRate)} msg/s` : "max", max]);
  if (half) {
    const target = Math.round(max.committedPerSecond / 2);
    results.push(["half of max", await phase("half", target)]);
  }
  // The second baseline runs with the load and Pulse stopped, on a quiet box.
  await runBaseline("after");

  const baseline = baselines.length ? baselines.reduce((a, b) => a + b, 0) / baselines.length : NaN;
  const baselineCpu = baselineCpus.length ? baselineCpus.reduce((a, b) => a + b, 0) / baselineCpus.length : NaN;
  const baseName = dbKind === "postgres" ? "COPY baseline" : "PGlite INSERT baseline";
  console.log("");
  for (const [name, r] of results) {
    const ratio = r.committedPerSecond / baseline;
    console.log(
      `RESULT ${label} ${name}: ${fmt(r.committedPerSecond)} msg/s sustained` +
        (Number.isFinite(baseline) ? ` (${baseName} ${fmt(baseline)} rows/s [${baselines.map((b) => fmt(b)).join(", ")}] → ratio ${fmt(ratio, 2)})` : "") +
        `, p50 ${fmt(r.p50, 1)} ms p99 ${fmt(r.p99, 1)} ms max ${fmt(r.max, 0)} ms (${r.latencySource}, ${fmt(r.latencySamples)} samples)` +
        `, pulse CPU ${fmt(r.pulseCores, 2)} cores, load generators ${fmt(r.genCores, 2)} cores` +
        (dbKind === "postgres" ? `, postgres backends ${fmt(r.pgCores, 2)} cores` : "") +
        `, RSS ${fmt(r.rssMb)} MB (max ${fmt(r.rssMaxMb)})`,
    );
    console.log(
      `       offered ${fmt(r.sentPerSecond)} msg/s, avg batch ${fmt(r.avgBatch)} rows in ${fmt(r.avgFlushMs, 1)} ms, queue at end ${fmt(r.queueDepth)}, ` +
        `errors ${fmt(r.errors)}, dropped ${fmt(r.dropped)}, /metrics answered in ${fmt(r.scrapeMs)} ms, event-loop lag ${fmt(r.lagMs)} ms`,
    );
    // The box is shared: when others' work takes CPU, every figure above drops
    // together. CPU per message does not, so it also gives what 2 idle cores
    // would do (Pulse's JavaScript runs on one thread: at most ~1 core for it).
    const us = (cores: number) => (cores / Math.max(r.committedPerSecond, 1)) * 1e6;
    const total = us(r.pulseCores) + us(r.genCores) + us(r.pgCores);
    const projected = Math.min(2e6 / total, 1e6 / us(r.pulseCores));
    console.log(
      `       CPU per message: pulse ${fmt(us(r.pulseCores), 1)} µs, load generators ${fmt(us(r.genCores), 1)} µs` +
        (dbKind === "postgres" ? `, postgres ${fmt(us(r.pgCores), 1)} µs` : "") +
        ` → on 2 idle cores ≈ ${fmt(projected)} msg/s` +
        (Number.isFinite(baselineCpu) ? ` (raw COPY: ${fmt(baselineCpu, 1)} µs per row → ≈ ${fmt(2e6 / baselineCpu)} rows/s; ratio ${fmt(projected / (2e6 / baselineCpu), 2)})` : ""),
    );
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit(process.exitCode ?? 0);
