// Load generator process for `ingest.ts --transport http`: POST
// /ingest/v1/batch with `batch` messages each (provision_token in every
// message), `concurrency` requests in flight, as fast as Pulse answers or at
// a given rate. The latency of a message is its request's POST→202 time
// (202 comes only after commit), counted once per accepted message.
// Same IPC as mqtt-publisher.ts: go, rate, mark, report, stop.

import { bucketOf, HIST_SIZE, sampleMetrics } from "./common.ts";

interface Config {
  url: string;
  tenant: string;
  devices: Array<{ id: string; token: string; index: number }>;
  batch: number;
  concurrency: number;
  rate: number;
}

const cfg = JSON.parse(process.env.BENCH_CONFIG_FILE ? await Bun.file(process.env.BENCH_CONFIG_FILE).text() : (process.env.BENCH_CONFIG ?? "{}")) as Config;
const send = (m: unknown) => process.send?.(m);

let sent = 0;
let acked = 0;
let errors = 0;
let hist = new Float64Array(HIST_SIZE);
let running = false;
let stopping = false;
let rate = cfg.rate;
let allowance = 0;
const seqs = new Array<number>(cfg.devices.length).fill(0);
let cursor = 0;

// Each message's fixed part, built once per device.
const heads = cfg.devices.map((d) => `{"tenant_id":"${cfg.tenant}","device_id":"${d.id}","msg_type":"telemetry","provision_token":"${d.token}","version":"1"`);

function body(n: number): string {
  const parts: string[] = [];
  const ts = Date.now() / 1000;
  for (let i = 0; i < n; i++) {
    const k = cursor++ % cfg.devices.length;
    const seq = seqs[k]!++;
    parts.push(`${heads[k]},"ts":${ts},"seq":${seq},"metrics":${sampleMetrics(cfg.devices[k]!.index, seq)}}`);
  }
  return `{"messages":[${parts.join(",")}]}`;
}

async function worker() {
  while (!stopping) {
    if (!running) {
      await Bun.sleep(20);
      continue;
    }
    if (rate > 0) {
      if (allowance < cfg.batch) {
        await Bun.sleep(5);
        continue;
      }
      allowance -= cfg.batch;
    }
    const text = body(cfg.batch);
    const t0 = performance.now();
    sent += cfg.batch;
    try {
      const r = await fetch(`${cfg.url}/ingest/v1/batch`, { method: "POST", headers: { "content-type": "application/json" }, body: text });
      const out = (await r.json()) as { accepted?: number; rejected?: number };
      if (r.status === 202) {
        const n = out.accepted ?? 0;
        acked += n;
        errors += out.rejected ?? 0;
        hist[bucketOf(performance.now() - t0)]! += n;
      } else {
        errors += cfg.batch;
        // 503 queue full: back off as told (briefly: this is a load generator).
        await Bun.sleep(r.status === 503 ? 50 : 200);
      }
    } catch {
      errors += cfg.batch;
      await Bun.sleep(200);
    }
  }
}

let lastTick = performance.now();
setInterval(() => {
  const now = performance.now();
  if (running && rate > 0) allowance = Math.min(allowance + (rate * (now - lastTick)) / 1000, Math.max(rate, cfg.batch * cfg.concurrency));
  lastTick = now;
}, 10);

process.on("message", (m: { cmd: string; rate?: number }) => {
  switch (m.cmd) {
    case "go":
      running = true;
      allowance = 0;
      break;
    case "rate":
      rate = m.rate ?? 0;
      allowance = 0;
      break;
    case "mark":
      sent = acked = errors = 0;
      hist = new Float64Array(HIST_SIZE);
      break;
    case "report":
      send({ type: "report", sent, acked, errors, hist: Array.from(hist) });
      break;
    case "stop":
      stopping = true;
      running = false;
      setTimeout(() => process.exit(0), 100);
      break;
  }
});

for (let i = 0; i < cfg.concurrency; i++) void worker();
send({ type: "ready" });
