// Alert latency benchmark: how long from a device publishing a value that
// crosses a threshold to the alert being committed, and to the browser's live
// stream (SSE /api/v1/live) saying so, while ingest runs at half of its
// measured maximum and at the maximum; and what evaluating 100 rules per
// tenant costs ingest. Not a test: it prints figures.
//
//   bun tests/bench/alert-latency.ts [--seconds N] [--warmup N] [--max-seconds N]
//       [--devices D] [--publishers P] [--rules R] [--probe-devices K]
//       [--probe-rate M] [--background-rate N] [--repeats X] [--no-rule-cost]
//       [--phases half,max,90%,5000] [--env PULSE_KEY=value,...]
//
// What it does, on a fresh Postgres database (tenant, D load devices, K probe
// devices and a tenant-admin API key seeded in SQL):
// 1. the cost of rules: maximum ingest (a QoS 0 flood from D devices over P
//    publisher processes, see lib.ts / mqtt-publisher.ts) with 0 rules and
//    with R rules (all on temp_c, which every message carries: each message is
//    judged against all R), X times alternately, each on a fresh Pulse;
//    committed msgs/s and Pulse CPU per message, and their ratios;
// 2. latency phases with R rules, each on a fresh Pulse: the load at half of
//    the maximum measured with R rules (or --background-rate N), then at the
//    maximum (offered at that rate, not a flood: under a flood the ingest queue
//    is full and every message waits its turn in it; --phases also takes a share
//    of the maximum like 90% or a rate in msgs/s); meanwhile K probe devices on MQTT connections of their own (QoS 1)
//    send M messages a second in turns, each device alternating a crossing
//    (temp_c = 200 + k, unique) and a recovery (20: the alert auto-closes, so
//    every crossing opens a new alert). For every crossing:
//      publish → PUBACK          the message committed (Pulse acks QoS 1 after the commit)
//      publish → alert committed LISTEN pulse_live in this process: the alert's NOTIFY arrives at its commit
//      publish → SSE event       `alerts.changed` on /api/v1/live, read with the API key
//    (alerts are tied to their publish by the value they opened with).

import { createBenchDb, flag, fmt, log, num, seedDevices, TENANT, type PulseChild } from "./lib.ts";
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
  subscribeSse,
  type AlertSeen,
  type Stats,
  type Window,
} from "./alerting-lib.ts";

const args = process.argv.slice(2);
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
const repeats = num(args, "repeats", 1);
const ruleCost = flag(args, "no-rule-cost") === undefined;
const phases = (flag(args, "phases") ?? "half,max").split(",").filter(Boolean);
const extraEnv = envArg(flag(args, "env"));

interface PhaseResult {
  name: string;
  rate: number;
  window: Window;
  ack: Stats;
  committed: Stats;
  sse: Stats;
  /** alert committed − PUBACK, per crossing: negative when the alert committed before the message's batch (it is judged as admitted, beside the write). */
  engine: Stats;
  crossings: number;
  missingCommitted: number;
  missingSse: number;
}

async function main() {
  log(`alert latency bench: ${deviceCount} load devices over ${publishers} publishers, ${ruleCount} rules, ${probeDevices} probe devices at ${probeRate} msg/s (half crossings), window ${seconds} s${Object.keys(extraEnv).length ? `, env ${JSON.stringify(extraEnv)}` : ""}`);
  const bdb = await createBenchDb("postgres");
  const cleanups: Array<() => Promise<unknown>> = [() => bdb.dispose()];
  process.on("SIGINT", () => void Promise.all(cleanups.reverse().map((f) => f().catch(() => {}))).then(() => process.exit(130)));
  try {
    const devices = await seedDevices(bdb, deviceCount);
    const probes = await seedDevices(bdb, probeDevices, "probe");
    const apiKey = await createApiKey(bdb);
    log(`seeded tenant ${TENANT}: ${deviceCount} load + ${probeDevices} probe devices, an API key`);

    // 1. What the rules cost: max ingest with 0 and with R rules, alternately.
    const max0: Window[] = [];
    const maxR: Window[] = [];
    if (ruleCost || !backgroundRate) {
      for (let i = 0; i < repeats; i++) {
        if (ruleCost) max0.push(await measureMax(bdb, devices, { rules: 0, publishers, warmup: maxWarmup, seconds: maxSeconds, env: extraEnv }));
        maxR.push(await measureMax(bdb, devices, { rules: ruleCount, publishers, warmup: maxWarmup, seconds: maxSeconds, env: extraEnv }));
      }
    }
    const maxRate = backgroundRate ? backgroundRate * 2 : median(maxR.map((w) => w.committedPerSecond));

    // 2. Latency at half of max and at max.
    const results: PhaseResult[] = [];
    for (const name of phases) {
      const rate = Math.round(name === "half" ? maxRate / 2 : name === "max" ? maxRate : name.endsWith("%") ? (maxRate * Number(name.slice(0, -1))) / 100 : Number(name));
      results.push(await latencyPhase(name, rate));
    }

    async function latencyPhase(name: string, rate: number): Promise<PhaseResult> {
      await resetTables(bdb);
      await setRules(bdb, ruleCount);
      const pulse: PulseChild = await startBenchPulse(bdb, extraEnv);
      const listened = new Map<string, AlertSeen>();
      const streamed = new Map<string, AlertSeen>();
      const onTriggered = (into: Map<string, AlertSeen>) => (e: AlertSeen) => {
        if (e.kind === "triggered" && !into.has(e.alertId)) into.set(e.alertId, e);
      };
      const unlisten = await listenAlerts(bdb, onTriggered(listened));
      const closeSse = await subscribeSse(pulse.url, apiKey, onTriggered(streamed));
      const probe = await startProbes(pulse, probes, probeRate);
      const load = await startLoad(pulse, devices, publishers, rate);
      try {
        for (const p of load) p.send({ cmd: "go" });
        probe.start();
        log(`${name}: load ${fmt(rate)} msg/s offered, probes ${probeRate} msg/s; warm-up ${warmup} s`);
        await Bun.sleep(warmup * 1000);
        probe.mark();
        const window = await measureWindow(pulse, bdb, load.map((p) => p.pid), seconds);
        probe.stopSending();
        log(`${name}: ${showWindow(window)}`);
        // Stragglers: what was published in the window may still be on its way (up to 15 s more).
        const counted = [...probe.crossings.values()].filter((c) => c.counted);
        const waitUntil = performance.now() + 15_000;
        let lAt = new Map<number, number>();
        let sAt = new Map<number, number>();
        for (;;) {
          // Tie alerts to publishes by the value each opened with.
          const values = await openingValues(bdb, [...new Set([...listened.keys(), ...streamed.keys()])]);
          const byValue = (seen: Map<string, AlertSeen>) => {
            const out = new Map<number, number>();
            for (const [id, e] of seen) {
              const v = values.get(id);
              if (v !== undefined) out.set(v, e.at);
            }
            return out;
          };
          lAt = byValue(listened);
          sAt = byValue(streamed);
          const done = counted.every((c) => c.ackAt !== undefined && lAt.has(c.value) && sAt.has(c.value));
          if (done || performance.now() > waitUntil) break;
          await Bun.sleep(1000);
        }
        const ack: number[] = [];
        const com: number[] = [];
        const sse: number[] = [];
        const eng: number[] = [];
        let missingCommitted = 0;
        let missingSse = 0;
        for (const c of counted) {
          if (c.ackAt !== undefined) ack.push(c.ackAt - c.sentAt);
          const l = lAt.get(c.value);
          const s = sAt.get(c.value);
          if (l === undefined) missingCommitted++;
          else {
            com.push(l - c.sentAt);
            if (c.ackAt !== undefined) eng.push(l - c.ackAt);
          }
          if (s === undefined) missingSse++;
          else sse.push(s - c.sentAt);
        }
        const r: PhaseResult = { name, rate, window, ack: stats(ack), committed: stats(com), sse: stats(sse), engine: stats(eng), crossings: counted.length, missingCommitted, missingSse };
        log(`${name}: publish→commit (PUBACK) ${showStats(r.ack)}; publish→alert committed ${showStats(r.committed)}; publish→SSE ${showStats(r.sse)}`);
        return r;
      } finally {
        probe.stopSending();
        await Promise.all(load.map((p) => p.stop()));
        await probe.close();
        closeSse();
        await unlisten();
        await stopQuietly(pulse);
      }
    }

    // ---------------------------------------------------------------- report
    console.log("");
    if (max0.length && maxR.length) {
      const thr = max0.map((w, i) => maxR[i]!.committedPerSecond / w.committedPerSecond);
      const cpu = max0.map((w, i) => maxR[i]!.pulseUsPerMsg / w.pulseUsPerMsg);
      console.log(`RESULT rule cost (max ingest, QoS 0 flood, ${deviceCount} devices, ${repeats} pair(s), median [min–max]):`);
      console.log(`       0 rules:   ${spread(max0.map((w) => w.committedPerSecond))} msg/s, pulse CPU ${spread(max0.map((w) => w.pulseUsPerMsg), 1)} µs/msg`);
      console.log(`       ${ruleCount} rules: ${spread(maxR.map((w) => w.committedPerSecond))} msg/s, pulse CPU ${spread(maxR.map((w) => w.pulseUsPerMsg), 1)} µs/msg, engine wall time ${spread(maxR.map((w) => w.evalUsPerMsg), 1)} µs/msg`);
      console.log(`       throughput ratio ${ruleCount}/0 rules: ${spread(thr, 3)} (target ≥ 0.90); CPU per message ratio: ${spread(cpu, 3)} (target ≤ 1.10)`);
    } else if (maxR.length) {
      console.log(`RESULT max ingest with ${ruleCount} rules: ${spread(maxR.map((w) => w.committedPerSecond))} msg/s`);
    }
    for (const r of results) {
      const target = r.name === "half" ? 50 : r.name === "max" ? 250 : NaN;
      console.log(
        `RESULT alert latency at ${r.name === "half" ? "half of max" : r.name === "max" ? "max" : r.name.endsWith("%") ? `${r.name} of max` : `${r.name} msg/s`} (${fmt(r.rate)} msg/s offered, ${fmt(r.window.committedPerSecond)} committed, queue at end ${fmt(r.window.queueDepth)}), ${r.crossings} crossings:`,
      );
      console.log(`       publish → alert committed: ${showStats(r.committed)}${Number.isFinite(target) ? ` — target p99 < ${target} ms: ${r.committed.p99 < target ? "met" : "MISSED"}` : ""}`);
      console.log(`       publish → SSE event seen:  ${showStats(r.sse)}`);
      console.log(`       of which publish → message committed (PUBACK): ${showStats(r.ack)}; alert committed − PUBACK (negative: the alert came first): ${showStats(r.engine)}`);
      console.log(`       missing: ${r.missingCommitted} alerts not committed, ${r.missingSse} not seen on SSE (15 s grace)`);
    }
  } finally {
    for (const f of cleanups.reverse()) await f().catch((e) => log("cleanup:", e?.message ?? e));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
process.exit(process.exitCode ?? 0);
