// Notification benchmark: how long from a device publishing a threshold
// crossing to the webhook arriving at a receiver while ingest runs at half of
// its maximum; how many deliveries a second the outbox makes to a fast
// receiver; and that a kill -9 during delivery loses nothing (at least once,
// duplicates counted, with the same webhook-id). Not a test: it prints figures.
//
//   bun tests/bench/notify.ts [--parts latency,throughput,crash] [--seconds N]
//       [--warmup N] [--max-seconds N] [--devices D] [--publishers P] [--rules R]
//       [--probe-devices K] [--probe-rate M] [--background-rate N]
//       [--rows N] [--kill-at F] [--repeats X] [--env PULSE_KEY=value,...]
//
// Setup: a fresh Postgres database, the bench tenant with D load devices and K
// probe devices, R threshold rules (see alerting-lib.ts: each crossing opens a
// new alert), a tenant-admin API key (SQL); a receiver in this process
// (Bun.serve on 127.0.0.1, answers 200 at once, verifies nothing) and, through
// the API, a webhook channel to it with a route for `triggered`. Pulse runs as
// a child with notify.allow_private_networks (the receiver is on loopback).
// latency:    load at half of the maximum measured with R rules (or
//             --background-rate N); probes as in alert-latency.ts; for every
//             crossing publish → webhook received (tied by the alert's value in
//             the body), beside publish → PUBACK and publish → alert committed.
// throughput: N outbox rows (webhook payloads, distinct webhook-ids) inserted in
//             SQL in one statement, with the NOTIFY Pulse listens for; deliveries/s
//             until the receiver has them all; no other load.
// crash:      the same N rows; once a share F of them has arrived, kill -9 Pulse;
//             start it again on the same database; wait until every row has
//             arrived; count rows missing, duplicates, and whether every
//             duplicate carried the row's webhook-id.

import { cpuOf, cpuSeconds, backendPids, createBenchDb, flag, fmt, log, num, seedDevices, TENANT, withOwner, type BenchDb, type PulseChild } from "./lib.ts";
import {
  createApiKey,
  envArg,
  listenAlerts,
  measureMax,
  measureWindow,
  openingValues,
  resetTables,
  setRules,
  showStats,
  showWindow,
  spread,
  startBenchPulse,
  startLoad,
  startProbes,
  stats,
  stopQuietly,
  type AlertSeen,
  type Stats,
  type Window,
} from "./alerting-lib.ts";

const args = process.argv.slice(2);
const parts = (flag(args, "parts") ?? "latency,throughput,crash").split(",").filter(Boolean);
const seconds = num(args, "seconds", 20);
const warmup = num(args, "warmup", 5);
const maxSeconds = num(args, "max-seconds", 10);
const maxWarmup = num(args, "max-warmup", 4);
const deviceCount = num(args, "devices", 200);
const publishers = num(args, "publishers", 2);
const ruleCount = num(args, "rules", 100);
const probeDevices = num(args, "probe-devices", 40);
const probeRate = num(args, "probe-rate", 40);
const backgroundRate = num(args, "background-rate", 0);
const rowCount = num(args, "rows", 20_000);
const killAt = num(args, "kill-at", 0.3);
const repeats = num(args, "repeats", 1);
const extraEnv = envArg(flag(args, "env"));

// ---------------------------------------------------------------- the receiver

interface Receipt {
  /** Row number (throughput/crash rows: fingerprint bench-<n>) or the crossing value (latency). */
  key: number;
  webhookId: string;
  at: number;
}

let receipts: Receipt[] = [];
let onReceipt: ((r: Receipt) => void) | undefined;
const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const at = performance.now();
    const body = await req.text();
    const webhookId = req.headers.get("webhook-id") ?? "";
    // Bench rows carry fingerprint bench-<n>; alerts carry their value (the crossing) in data.alert.value.
    const row = /"fingerprint":"bench-(\d+)"/.exec(body);
    const value = row ? undefined : /"value":(-?[\d.]+)/.exec(body);
    const r: Receipt = { key: row ? Number(row[1]) : value ? Number(value[1]) : NaN, webhookId, at };
    receipts.push(r);
    onReceipt?.(r);
    return new Response("ok");
  },
});
const receiverUrl = `http://127.0.0.1:${receiver.port}/hook`;

async function api(pulse: PulseChild, key: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${pulse.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------- outbox rows in SQL

/** N webhook payloads for the channel, due now, in one INSERT, and the NOTIFY the outbox worker listens for. */
async function enqueueRows(bdb: BenchDb, channelId: string, n: number): Promise<void> {
  await withOwner(bdb, async (q) => {
    await q(
      `insert into notification_outbox (tenant_id, channel_id, event, idempotency_key, payload, give_up_at)
       select $1, $2::uuid, 'alert.triggered', 'msg_bench_' || n,
              jsonb_build_object('id', 'msg_bench_' || n, 'type', 'alert.triggered', 'timestamp', now(),
                'tenant', jsonb_build_object('id', $1::text, 'name', 'Bench'),
                'alert', jsonb_build_object('id', gen_random_uuid(), 'fingerprint', 'bench-' || n, 'type', 'THRESHOLD', 'severity', 'HIGH',
                  'severity_level', 2, 'status', 'OPEN', 'summary', 'probe: temp_c above 100: temp_c 250 > 100 on dev-' || n,
                  'device_id', 'dev-' || n, 'site_id', 'site-1', 'metric_name', 'temp_c', 'value', 250, 'trigger_count', 1,
                  'opened_at', now(), 'acknowledged_by', null, 'closed_at', null, 'url', 'http://127.0.0.1/alerts/bench-' || n),
                'rule', null),
              now() + interval '1 day'
         from generate_series(1, $3::int) n`,
      [TENANT, channelId, n],
    );
    await q("select pg_notify('pulse_outbox', '')");
  });
}

async function outboxStatus(bdb: BenchDb): Promise<Record<string, number>> {
  const rows = (await withOwner(bdb, (q) => q("select status, count(*)::int as n, max(attempts)::int as max_attempts, count(*) filter (where attempts > 1)::int as retried from notification_outbox group by status"))) as Array<{ status: string; n: number; max_attempts: number; retried: number }>;
  const out: Record<string, number> = { pending: 0, delivered: 0, dead: 0, max_attempts: 0, retried: 0 };
  for (const r of rows) {
    out[r.status] = r.n;
    out.max_attempts = Math.max(out.max_attempts!, r.max_attempts);
    out.retried! += r.retried;
  }
  return out;
}

/** Resolves when the receiver has `n` distinct rows (or after timeoutMs). */
function untilDistinct(n: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const seen = new Set(receipts.map((r) => r.key));
    if (seen.size >= n) return resolve(true);
    const t = setTimeout(() => {
      onReceipt = undefined;
      resolve(false);
    }, timeoutMs);
    onReceipt = (r) => {
      seen.add(r.key);
      if (seen.size >= n) {
        clearTimeout(t);
        onReceipt = undefined;
        resolve(true);
      }
    };
  });
}

// ---------------------------------------------------------------- main

interface LatencyResult {
  rate: number;
  window: Window;
  ack: Stats;
  committed: Stats;
  webhook: Stats;
  outboxPart: Stats;
  crossings: number;
  missing: number;
}

interface ThroughputResult {
  rows: number;
  seconds: number;
  perSecond: number;
  firstMs: number;
  pulseCores: number;
  pgCores: number;
  benchCores: number;
  duplicates: number;
}

interface CrashResult {
  rows: number;
  atKill: number;
  receiptsAtKill: number;
  recoveredMs: number;
  distinct: number;
  missing: number;
  duplicates: number;
  rowsDuplicated: number;
  idMismatches: number;
  status: Record<string, number>;
  complete: boolean;
}

async function main() {
  log(`notify bench: parts ${parts.join(", ")}; receiver at ${receiverUrl}`);
  const bdb = await createBenchDb("postgres");
  try {
    const devices = await seedDevices(bdb, deviceCount);
    const probes = await seedDevices(bdb, probeDevices, "probe");
    const apiKey = await createApiKey(bdb);
    log(`seeded tenant ${TENANT}: ${deviceCount} load + ${probeDevices} probe devices, an API key`);

    // The channel and its route, through the API (the channel's URL is sealed with the secret key).
    let channelId = "";
    {
      const pulse = await startBenchPulse(bdb, extraEnv);
      try {
        const ch = await api(pulse, apiKey, "POST", "/notification-channels", { name: "bench receiver", type: "webhook", settings: { url: receiverUrl } });
        channelId = String(ch.id);
        await api(pulse, apiKey, "POST", "/notification-routing-rules", { channel_id: channelId, name: "everything triggered", transitions: ["triggered"], min_severity: "INFO" });
        const test = await api(pulse, apiKey, "POST", `/notification-channels/${channelId}/test`);
        log(`webhook channel ${channelId} → ${receiverUrl}; test send: ${JSON.stringify(test)}`);
      } finally {
        await stopQuietly(pulse);
      }
    }

    const latency: LatencyResult[] = [];
    const throughput: ThroughputResult[] = [];
    const crash: CrashResult[] = [];
    const maxR: Window[] = [];
    for (let rep = 0; rep < repeats; rep++) {
      if (parts.includes("latency")) {
        let rate = backgroundRate;
        if (!rate) {
          const w = await measureMax(bdb, devices, { rules: ruleCount, publishers, warmup: maxWarmup, seconds: maxSeconds, env: extraEnv });
          maxR.push(w);
          rate = Math.round(w.committedPerSecond / 2);
        }
        latency.push(await latencyPhase(rate));
      }
      if (parts.includes("throughput")) throughput.push(await throughputPhase());
      if (parts.includes("crash")) crash.push(await crashPhase());
    }

    async function latencyPhase(rate: number): Promise<LatencyResult> {
      await resetTables(bdb);
      await setRules(bdb, ruleCount);
      receipts = [];
      const pulse = await startBenchPulse(bdb, extraEnv);
      const listened = new Map<string, AlertSeen>();
      const unlisten = await listenAlerts(bdb, (e) => {
        if (e.kind === "triggered" && !listened.has(e.alertId)) listened.set(e.alertId, e);
      });
      const probe = await startProbes(pulse, probes, probeRate);
      const load = await startLoad(pulse, devices, publishers, rate);
      try {
        for (const p of load) p.send({ cmd: "go" });
        probe.start();
        log(`latency: load ${fmt(rate)} msg/s offered, probes ${probeRate} msg/s; warm-up ${warmup} s`);
        await Bun.sleep(warmup * 1000);
        probe.mark();
        const window = await measureWindow(pulse, bdb, load.map((p) => p.pid), seconds);
        probe.stopSending();
        log(`latency: ${showWindow(window)}`);
        const counted = [...probe.crossings.values()].filter((c) => c.counted);
        const received = () => {
          const m = new Map<number, number>();
          for (const r of receipts) if (!m.has(r.key)) m.set(r.key, r.at);
          return m;
        };
        const until = performance.now() + 15_000;
        while (performance.now() < until && !counted.every((c) => received().has(c.value))) await Bun.sleep(500);
        const got = received();
        // The alert's commit, for the outbox's share (alert committed → webhook received).
        const values = await openingValues(bdb, [...listened.keys()]);
        const committedAt = new Map<number, number>();
        for (const [id, e] of listened) {
          const v = values.get(id);
          if (v !== undefined) committedAt.set(v, e.at);
        }
        const ack: number[] = [];
        const com: number[] = [];
        const hook: number[] = [];
        const part: number[] = [];
        let missing = 0;
        for (const c of counted) {
          if (c.ackAt !== undefined) ack.push(c.ackAt - c.sentAt);
          const l = committedAt.get(c.value);
          if (l !== undefined) com.push(l - c.sentAt);
          const h = got.get(c.value);
          if (h === undefined) missing++;
          else {
            hook.push(h - c.sentAt);
            if (l !== undefined) part.push(h - l);
          }
        }
        const r: LatencyResult = { rate, window, ack: stats(ack), committed: stats(com), webhook: stats(hook), outboxPart: stats(part), crossings: counted.length, missing };
        log(`latency: publish→webhook ${showStats(r.webhook)}; publish→alert committed ${showStats(r.committed)}; alert committed→webhook ${showStats(r.outboxPart)}`);
        return r;
      } finally {
        probe.stopSending();
        await Promise.all(load.map((p) => p.stop()));
        await probe.close();
        await unlisten();
        await stopQuietly(pulse);
      }
    }

    async function throughputPhase(): Promise<ThroughputResult> {
      await resetTables(bdb);
      await setRules(bdb, 0);
      receipts = [];
      const pulse = await startBenchPulse(bdb, extraEnv);
      try {
        await Bun.sleep(1000);
        const pg = await backendPids(bdb);
        const c0 = { pulse: cpuSeconds(pulse.pid), pg: cpuOf(pg), bench: process.cpuUsage() };
        const t0 = performance.now();
        await enqueueRows(bdb, channelId, rowCount);
        const t1 = performance.now();
        log(`throughput: ${fmt(rowCount)} outbox rows inserted in ${fmt(t1 - t0)} ms; waiting for the receiver`);
        const done = await untilDistinct(rowCount, 300_000);
        const tEnd = performance.now();
        const secs = (tEnd - t1) / 1000;
        const c1 = { pulse: cpuSeconds(pulse.pid), pg: cpuOf(pg), bench: process.cpuUsage(c0.bench) };
        const distinct = new Set(receipts.map((r) => r.key)).size;
        if (!done) log(`throughput: only ${fmt(distinct)} of ${fmt(rowCount)} arrived within 300 s`);
        const firstAt = Math.min(...receipts.map((r) => r.at));
        const r: ThroughputResult = {
          rows: distinct,
          seconds: secs,
          perSecond: distinct / secs,
          firstMs: firstAt - t1,
          pulseCores: (c1.pulse - c0.pulse) / ((tEnd - t0) / 1000),
          pgCores: (c1.pg - c0.pg) / ((tEnd - t0) / 1000),
          benchCores: (c1.bench.user + c1.bench.system) / 1e6 / ((tEnd - t0) / 1000),
          duplicates: receipts.length - distinct,
        };
        await Bun.sleep(1500); // the last round's results written
        log(`throughput: ${fmt(r.perSecond)} deliveries/s (${fmt(distinct)} in ${fmt(secs, 2)} s, first after ${fmt(r.firstMs)} ms); pulse ${fmt(r.pulseCores, 2)} cores, postgres ${fmt(r.pgCores, 2)}, receiver ${fmt(r.benchCores, 2)}; outbox ${JSON.stringify(await outboxStatus(bdb))}`);
        return r;
      } finally {
        await stopQuietly(pulse);
      }
    }

    async function crashPhase(): Promise<CrashResult> {
      await resetTables(bdb);
      await setRules(bdb, 0);
      receipts = [];
      let pulse = await startBenchPulse(bdb, extraEnv);
      await Bun.sleep(1000);
      await enqueueRows(bdb, channelId, rowCount);
      const target = Math.round(rowCount * killAt);
      await untilDistinct(target, 120_000);
      process.kill(pulse.pid, "SIGKILL");
      const killedAt = performance.now();
      const atKill = new Set(receipts.map((r) => r.key)).size;
      const receiptsAtKill = receipts.length;
      await pulse.stop().catch(() => 0);
      const statusAfterKill = await outboxStatus(bdb);
      log(`crash: kill -9 after ${fmt(atKill)} rows received; outbox then ${JSON.stringify(statusAfterKill)}; starting Pulse again on the same database`);
      await Bun.sleep(500);
      const late = receipts.length - receiptsAtKill;
      if (late) log(`crash: ${late} requests arrived after the kill (in flight)`);
      pulse = await startBenchPulse(bdb, extraEnv);
      try {
        // The killed worker's leases (notify.timeout_seconds × 3) run out before its rows are sent again.
        const complete = await untilDistinct(rowCount, 180_000);
        const recoveredMs = performance.now() - killedAt;
        await Bun.sleep(2000);
        const byRow = new Map<number, Receipt[]>();
        for (const r of receipts) byRow.set(r.key, [...(byRow.get(r.key) ?? []), r]);
        let missing = 0;
        let rowsDuplicated = 0;
        let idMismatches = 0;
        for (let n = 1; n <= rowCount; n++) {
          const rs = byRow.get(n);
          if (!rs) {
            missing++;
            continue;
          }
          if (rs.length > 1) rowsDuplicated++;
          for (const r of rs) if (r.webhookId !== `msg_bench_${n}`) idMismatches++;
        }
        const r: CrashResult = {
          rows: rowCount,
          atKill,
          receiptsAtKill,
          recoveredMs,
          distinct: byRow.size,
          missing,
          duplicates: receipts.length - byRow.size,
          rowsDuplicated,
          idMismatches,
          status: await outboxStatus(bdb),
          complete,
        };
        log(`crash: ${fmt(r.distinct)} of ${fmt(rowCount)} rows received, ${r.missing} missing, ${r.duplicates} duplicate deliveries (${r.rowsDuplicated} rows), ${r.idMismatches} with another webhook-id; all in ${fmt(recoveredMs / 1000, 1)} s after the kill; outbox ${JSON.stringify(r.status)}`);
        return r;
      } finally {
        await stopQuietly(pulse);
      }
    }

    // ---------------------------------------------------------------- report
    console.log("");
    if (maxR.length) console.log(`RESULT max ingest with ${ruleCount} rules (for half load): ${spread(maxR.map((w) => w.committedPerSecond))} msg/s`);
    for (const r of latency) {
      console.log(`RESULT publish → webhook received at half of max (${fmt(r.rate)} msg/s offered, ${fmt(r.window.committedPerSecond)} committed), ${r.crossings} crossings: ${showStats(r.webhook)}; ${r.missing} never arrived (15 s grace)`);
      console.log(`       of which publish → PUBACK ${showStats(r.ack)}; publish → alert committed ${showStats(r.committed)}; alert committed → webhook received ${showStats(r.outboxPart)}`);
    }
    if (latency.length > 1) console.log(`RESULT publish → webhook p50 ${spread(latency.map((r) => r.webhook.p50), 1)} ms, p99 ${spread(latency.map((r) => r.webhook.p99), 1)} ms over ${latency.length} runs`);
    for (const r of throughput)
      console.log(`RESULT outbox throughput: ${fmt(r.perSecond)} deliveries/s (${fmt(r.rows)} rows in ${fmt(r.seconds, 2)} s; first delivery ${fmt(r.firstMs)} ms after the insert; target ≥ 1,000/s: ${r.perSecond >= 1000 ? "met" : "MISSED"}); pulse ${fmt(r.pulseCores, 2)} cores, postgres ${fmt(r.pgCores, 2)} cores, receiver ${fmt(r.benchCores, 2)} cores; ${r.duplicates} duplicates`);
    if (throughput.length > 1) console.log(`RESULT outbox throughput ${spread(throughput.map((r) => r.perSecond))} deliveries/s over ${throughput.length} runs`);
    for (const r of crash)
      console.log(
        `RESULT kill -9 during delivery: killed after ${fmt(r.atKill)} of ${fmt(r.rows)} rows; after the restart ${fmt(r.distinct)} delivered, ${r.missing} lost${r.complete ? "" : " (INCOMPLETE after 180 s)"}; ` +
          `${r.duplicates} duplicate deliveries over ${r.rowsDuplicated} rows, ${r.idMismatches} deliveries with a webhook-id other than the row's; everything in ${fmt(r.recoveredMs / 1000, 1)} s after the kill; outbox ${JSON.stringify(r.status)}`,
      );
  } finally {
    receiver.stop(true);
    await bdb.dispose();
  }
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
process.exit(process.exitCode ?? 0);
