// What the alerting benchmarks (alert-latency.ts, notify.ts) share on top of
// lib.ts: an API key and alert rules seeded in SQL, the background ingest load
// (mqtt-publisher.ts processes) and its maximum, threshold-crossing probes on
// MQTT connections of their own, and the two ways to see an alert: LISTEN on
// the live channel (NOTIFY is delivered at commit) and the SSE stream
// /api/v1/live. Benchmarks print figures; they are not tests.

import postgres from "postgres";
import mqtt, { type MqttClient } from "mqtt";
import { sha256Hex, randomSecret } from "../../src/lib/ids.ts";
import { backendPids, cpuOf, cpuSeconds, log, fmt, scrape, spawnPublisher, startPulse, TENANT, withOwner, type BenchDb, type Device, type PublisherHandle, type PulseChild } from "./lib.ts";

// ---------------------------------------------------------------- arguments and figures

export function envArg(v: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (v ?? "")
      .split(",")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Exact percentiles of a list of samples (ms). */
export function stats(xs: readonly number[]): Stats {
  if (!xs.length) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1)!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const showStats = (s: Stats) => (s.n ? `p50 ${fmt(s.p50, 1)} ms, p99 ${fmt(s.p99, 1)} ms, max ${fmt(s.max, 1)} ms (n=${s.n})` : "no samples");

/** "median [min–max]" of repeated figures. */
export function spread(xs: readonly number[], digits = 0): string {
  const v = xs.filter(Number.isFinite);
  if (!v.length) return "n/a";
  const s = [...v].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return s.length === 1 ? fmt(med, digits) : `${fmt(med, digits)} [${fmt(s[0]!, digits)}–${fmt(s.at(-1)!, digits)}]`;
}

// ---------------------------------------------------------------- seeding

/** A tenant-admin API key of the bench tenant, made as `pulse apikey create` makes it (pulse_<prefix>_<secret>, sha256 of the secret stored). */
export async function createApiKey(bdb: BenchDb, name = "bench"): Promise<string> {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const prefix = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => alphabet[b % 62]).join("");
  const secret = randomSecret(32);
  await withOwner(bdb, (q) => q("insert into api_keys (tenant_id, name, prefix, secret_hash, role) values ($1, $2, $3, $4, 'tenant-admin')", [TENANT, name, prefix, sha256Hex(secret)]));
  return `pulse_${prefix}_${secret}`;
}

/** The probe rule: temp_c > PROBE_THRESHOLD opens an alert; back under PROBE_CLEAR closes it. */
export const PROBE_THRESHOLD = 100;
export const PROBE_CLEAR = 50;

/**
 * `n` threshold rules of the bench tenant, all on temp_c (a metric every
 * load message carries, so every message is judged against all of them: the
 * costly case). One is the probe rule (temp_c > 100, clear at 50, auto-close,
 * no re-open window, so each crossing opens a new alert); the others never
 * hold (temp_c < -10·i). Replaces whatever rules there were.
 */
export async function setRules(bdb: BenchDb, n: number): Promise<void> {
  await withOwner(bdb, async (q) => {
    await q("delete from alert_rules where tenant_id = $1", [TENANT]);
    if (n <= 0) return;
    await q(
      `insert into alert_rules (tenant_id, name, metric_name, operator, threshold, clear_threshold, severity, auto_close, reopen_window_seconds)
       values ($1, 'probe: temp_c above ${PROBE_THRESHOLD}', 'temp_c', 'GT', '${PROBE_THRESHOLD}'::jsonb, ${PROBE_CLEAR}, 'HIGH', true, 0)`,
      [TENANT],
    );
    if (n > 1)
      await q(
        `insert into alert_rules (tenant_id, name, metric_name, operator, threshold, severity, auto_close, reopen_window_seconds)
         select $1, 'never ' || i, 'temp_c', 'LT', to_jsonb(-10 * i), 'LOW', true, 0 from generate_series(1, $2::int) i`,
        [TENANT, n - 1],
      );
  });
}

/** Empty the tables a phase fills, so phases start alike. */
export async function resetTables(bdb: BenchDb): Promise<void> {
  await withOwner(bdb, (q) => q("truncate telemetry, alerts, alert_events, rule_state, notification_outbox, notification_attempts, notification_throttle cascade"));
}

// ---------------------------------------------------------------- Pulse and the background load

export const PULSE_ENV = {
  PULSE_DATABASE_POOL_MAX: "4",
  PULSE_NOTIFY_ALLOW_PRIVATE_NETWORKS: "true",
  PULSE_INGEST_DEVICE_RATE_PER_SECOND: "0",
};

export async function startBenchPulse(bdb: BenchDb, env: Record<string, string>): Promise<PulseChild> {
  const pulse = await startPulse(bdb, { ...PULSE_ENV, ...env });
  log(`pulse pid ${pulse.pid} at ${pulse.url}, mqtt ${pulse.mqttPort}`);
  return pulse;
}

/** Publisher processes for the load devices (QoS 0, `rate` msgs/s in total; 0 = as fast as the sockets allow). */
export async function startLoad(pulse: PulseChild, devices: Device[], publishers: number, rate: number): Promise<PublisherHandle[]> {
  const pubs: PublisherHandle[] = [];
  for (let p = 0; p < publishers; p++) {
    const mine = devices.map((d, index) => ({ ...d, index })).filter((_, i) => i % publishers === p);
    pubs.push(spawnPublisher("mqtt-publisher.ts", { mode: "load", host: "127.0.0.1", port: pulse.mqttPort, tenant: TENANT, devices: mine, qos: 0, window: 100, rate: rate / publishers, keepalive: 60, connectConcurrency: 50, clientPrefix: `load${p}` }));
  }
  await Promise.all(pubs.map((p) => p.ready));
  return pubs;
}

export const COUNTERS = [
  "pulse_ingest_committed_total",
  "pulse_ingest_flush_seconds_count",
  "pulse_ingest_flush_seconds_sum",
  "pulse_ingest_commit_latency_seconds_sum",
  "pulse_ingest_commit_latency_seconds_count",
  "pulse_ingest_queue_depth",
  "pulse_alert_evaluation_seconds_sum",
  "pulse_alert_evaluation_seconds_count",
  "pulse_alert_evaluations_total",
  "pulse_mqtt_dropped_total",
];

export interface Window {
  seconds: number;
  committedPerSecond: number;
  /** Pulse CPU (all threads) per committed message, µs. */
  pulseUsPerMsg: number;
  pulseCores: number;
  pgUsPerMsg: number;
  genCores: number;
  /** Engine wall time (evaluate + write alert changes, incl. waiting for the database and the event loop) per committed message, µs, from pulse_alert_evaluation_seconds. */
  evalUsPerMsg: number;
  queueDepth: number;
  /** Messages per batch written, ms a batch takes to commit, ms from entering the queue to commit (means). */
  batchSize: number;
  flushMs: number;
  queuedMs: number;
}

/** Counters and CPU over a window of `seconds`, from a /metrics reading before and after. */
export async function measureWindow(pulse: PulseChild, bdb: BenchDb, genPids: number[], seconds: number, onTick?: () => void): Promise<Window> {
  const pg = await backendPids(bdb);
  const m0 = await scrape(pulse.url, COUNTERS);
  const t0 = performance.now();
  const c0 = { pulse: cpuSeconds(pulse.pid), pg: cpuOf(pg), gen: cpuOf(genPids) };
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await Bun.sleep(Math.min(1000, end - performance.now()));
    onTick?.();
  }
  const m1 = await scrape(pulse.url, COUNTERS);
  const t1 = performance.now();
  const c1 = { pulse: cpuSeconds(pulse.pid), pg: cpuOf(pg), gen: cpuOf(genPids) };
  const secs = (t1 - t0) / 1000;
  const d = (k: string) => m1[k]! - m0[k]!;
  const msgs = Math.max(1, d("pulse_ingest_committed_total"));
  return {
    seconds: secs,
    committedPerSecond: d("pulse_ingest_committed_total") / secs,
    pulseUsPerMsg: ((c1.pulse - c0.pulse) / msgs) * 1e6,
    pulseCores: (c1.pulse - c0.pulse) / secs,
    pgUsPerMsg: ((c1.pg - c0.pg) / msgs) * 1e6,
    genCores: (c1.gen - c0.gen) / secs,
    evalUsPerMsg: (d("pulse_alert_evaluation_seconds_sum") / msgs) * 1e6,
    queueDepth: m1.pulse_ingest_queue_depth!,
    batchSize: msgs / Math.max(1, d("pulse_ingest_flush_seconds_count")),
    flushMs: (d("pulse_ingest_flush_seconds_sum") / Math.max(1, d("pulse_ingest_flush_seconds_count"))) * 1000,
    queuedMs: (d("pulse_ingest_commit_latency_seconds_sum") / Math.max(1, d("pulse_ingest_commit_latency_seconds_count"))) * 1000,
  };
}

export const showWindow = (w: Window) =>
  `${fmt(w.committedPerSecond)} msg/s committed; pulse ${fmt(w.pulseCores, 2)} cores = ${fmt(w.pulseUsPerMsg, 1)} µs/msg (engine wall time ${fmt(w.evalUsPerMsg, 1)} µs/msg), postgres ${fmt(w.pgUsPerMsg, 1)} µs/msg, load generators ${fmt(w.genCores, 2)} cores, queue ${fmt(w.queueDepth)}; batches of ${fmt(w.batchSize)} taking ${fmt(w.flushMs, 1)} ms, queued → committed ${fmt(w.queuedMs, 1)} ms (means)`;

/**
 * Maximum ingest with `rules` rules: a fresh Pulse and a QoS 0 flood from
 * the load devices (a flood leaves the sockets' buffers full, so nothing
 * else runs on that Pulse), committed msgs/s after a warm-up.
 */
export async function measureMax(bdb: BenchDb, devices: Device[], o: { rules: number; publishers: number; warmup: number; seconds: number; env: Record<string, string> }): Promise<Window> {
  await resetTables(bdb);
  await setRules(bdb, o.rules);
  const pulse = await startBenchPulse(bdb, o.env);
  let pubs: PublisherHandle[] = [];
  try {
    pubs = await startLoad(pulse, devices, o.publishers, 0);
    for (const p of pubs) p.send({ cmd: "go" });
    await Bun.sleep(o.warmup * 1000);
    const w = await measureWindow(pulse, bdb, pubs.map((p) => p.pid), o.seconds);
    log(`max with ${o.rules} rules: ${showWindow(w)}`);
    return w;
  } finally {
    await Promise.all(pubs.map((p) => p.stop()));
    await stopQuietly(pulse);
  }
}

export async function stopQuietly(pulse: PulseChild): Promise<void> {
  const code = await pulse.stop();
  const err = pulse
    .stderr()
    .replace(/Pulse created the operator-admin[^\n]*\n[^\n]*\n[^\n]*\n?/, "")
    .trim();
  if (code !== 0 && code !== 143) log(`pulse exited with ${code}`);
  if (err) log(`pulse stderr (tail):\n${err.slice(-1500)}`);
}

// ---------------------------------------------------------------- probes: threshold crossings

export interface Crossing {
  value: number;
  deviceId: string;
  /** performance.now() when the PUBLISH was handed to the socket. */
  sentAt: number;
  /** When the PUBACK came (Pulse acknowledges QoS 1 after the commit). */
  ackAt?: number;
  /** Sent after the mark (counted). */
  counted: boolean;
}

/**
 * `devices` probe devices, one MQTT connection each (QoS 1), taking turns at
 * `rate` messages a second in total: each device alternates a crossing
 * (temp_c = 200 + k, unique, so the alert it opens names its publish) and a
 * recovery (temp_c = 20, which closes the alert: the next crossing opens a new one).
 */
export async function startProbes(pulse: PulseChild, devices: Device[], rate: number) {
  const clients: MqttClient[] = [];
  for (const [i, d] of devices.entries()) {
    clients.push(
      await mqtt.connectAsync(`mqtt://127.0.0.1:${pulse.mqttPort}`, { username: `${TENANT}/${d.id}`, password: d.token, clientId: `probe-${i}-${process.pid}`, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60, clean: true }),
    );
  }
  const crossings = new Map<number, Crossing>();
  const firing = new Array<boolean>(devices.length).fill(true); // start with a recovery: a device left firing by an earlier phase is closed first
  let k = 0;
  let turn = 0;
  let counting = false;
  let seq = 0;
  const publish = (i: number, temp: number, onAck?: () => void) => {
    const d = devices[i]!;
    const payload = `{"version":"1","ts":${Date.now() / 1000},"seq":${seq++},"metrics":{"temp_c":${temp},"door_open":false}}`;
    clients[i]!.publish(`tenant/${TENANT}/device/${d.id}/telemetry`, payload, { qos: 1 }, () => onAck?.());
  };
  const tick = () => {
    const i = turn++ % devices.length;
    if (firing[i]) {
      publish(i, 20);
      firing[i] = false;
      return;
    }
    const value = 200 + k++;
    const c: Crossing = { value, deviceId: devices[i]!.id, sentAt: performance.now(), counted: counting };
    crossings.set(value, c);
    publish(i, value, () => (c.ackAt = performance.now()));
    firing[i] = true;
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    crossings,
    start() {
      // Several ticks per timer firing when the rate is above what a 5 ms timer gives.
      let due = performance.now();
      timer = setInterval(() => {
        const now = performance.now();
        while (due <= now) {
          tick();
          due += 1000 / rate;
        }
      }, 5);
    },
    /** Count what is sent from now on. */
    mark() {
      counting = true;
    },
    stopSending() {
      clearInterval(timer);
      timer = undefined;
    },
    async close() {
      clearInterval(timer);
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    },
  };
}
export type Probes = Awaited<ReturnType<typeof startProbes>>;

// ---------------------------------------------------------------- seeing alerts

export interface AlertSeen {
  alertId: string;
  kind: string;
  at: number;
}

/** LISTEN on the live channel: Postgres delivers the NOTIFY an alert change sends at its commit. */
export async function listenAlerts(bdb: BenchDb, onEvent: (e: AlertSeen) => void): Promise<() => Promise<void>> {
  const sql = postgres(bdb.url!, { max: 1, onnotice: () => {} });
  await sql.listen("pulse_live", (payload) => {
    const at = performance.now();
    try {
      const e = JSON.parse(payload) as { type: string; data?: { alert_id?: string; kind?: string } };
      if (e.type === "alerts.changed" && e.data?.alert_id) onEvent({ alertId: e.data.alert_id, kind: e.data.kind ?? "", at });
    } catch {}
  });
  return async () => {
    await sql.end({ timeout: 1 });
  };
}

/** The SSE stream GET /api/v1/live with an API key; `alerts.changed` events as they arrive. */
export async function subscribeSse(url: string, apiKey: string, onEvent: (e: AlertSeen) => void): Promise<() => void> {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/v1/live`, { headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream" }, signal: ac.signal });
  if (!res.ok || !res.body) throw new Error(`live: HTTP ${res.status} ${await res.text()}`);
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of res.body as ReadableStream<Uint8Array>) {
        const at = performance.now();
        buf += dec.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (event === "ready") ready();
          if (event !== "alerts.changed") continue;
          const d = JSON.parse(data) as { alert_id: string; kind: string };
          onEvent({ alertId: d.alert_id, kind: d.kind, at });
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) log("live stream ended:", (err as Error).message);
    }
  })();
  await isReady;
  return () => ac.abort();
}

/** The crossing value each alert opened with (alert_events OPENED), to tie alerts to their publishes. */
export async function openingValues(bdb: BenchDb, alertIds: string[]): Promise<Map<string, number>> {
  if (!alertIds.length) return new Map();
  // Numbers only: NO_HEARTBEAT alerts (a device left silent by an earlier phase) open with a time.
  const rows = (await withOwner(bdb, (q) => q("select alert_id::text as id, value::text as value from alert_events where kind = 'OPENED' and alert_id = any($1::uuid[]) and jsonb_typeof(value) = 'number'", ["{" + alertIds.join(",") + "}"]))) as Array<{ id: string; value: string }>;
  return new Map(rows.map((r) => [r.id, Number(r.value)]));
}
