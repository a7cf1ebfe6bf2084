// Connection benchmark: what an idle MQTT connection costs Pulse in memory.
// Not a test: it prints figures.
//
//   bun tests/bench/connections.ts [--connections N] [--processes P] [--auth anon|device]
//       [--db postgres|pglite] [--settle S] [--keepalive S]
//
// Starts Pulse as a child process, measures its RSS, opens N idle MQTT
// connections from P publisher processes (anonymous connections, as
// envelope-token gateways use, or `--auth device`: each connection a device
// with its credentials, which also fills the registry cache), waits until
// Pulse counts them all and its RSS settles, measures again → RSS per
// connection; then closes them and measures once more. The connections send
// PINGREQ every keepalive/2 seconds, as real devices do.
//
// File descriptors: Pulse needs one per connection (plus its own), each
// publisher one per connection it holds. When a process's soft limit is too
// low it is raised with `prlimit` (we run as root here); what was done is printed.

import { createBenchDb, flag, fmt, log, nofileLimit, num, rssBytes, scrape, seedDevices, spawnPublisher, startPulse, TENANT, type DbKind, type PublisherHandle } from "./lib.ts";

const args = process.argv.slice(2);
const total = num(args, "connections", 10_000);
const processes = num(args, "processes", 4);
const auth = (flag(args, "auth") ?? "anon") as "anon" | "device";
const dbKind = (flag(args, "db") ?? "postgres") as DbKind;
const settle = num(args, "settle", 10);
const keepalive = num(args, "keepalive", 60);

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch((e) => log("cleanup:", e?.message ?? e));
  cleanups.length = 0;
}

/** Median of RSS samples taken every 500 ms for `seconds`. */
async function steadyRss(pid: number, seconds: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < seconds * 2; i++) {
    xs.push(rssBytes(pid));
    await Bun.sleep(500);
  }
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

async function main() {
  log(`connections bench: ${fmt(total)} idle MQTT connections (${auth === "anon" ? "anonymous, envelope-token mode" : "device credentials"}) from ${processes} processes, keepalive ${keepalive} s, ${dbKind}`);
  log(`this process: nofile ${nofileLimit()}`);
  const bdb = await createBenchDb(dbKind);
  cleanups.push(() => bdb.dispose());
  const devices = auth === "device" ? await seedDevices(bdb, total) : [];
  if (auth === "device") log(`seeded ${fmt(total)} devices`);

  const pulse = await startPulse(bdb, {}, { nofile: total + 1024 });
  cleanups.push(async () => void (await pulse.stop()));
  log(`pulse pid ${pulse.pid}: nofile ${nofileLimit(pulse.pid)}`);
  // Let start-up work (migrations check, first jobs) finish before the first reading.
  await Bun.sleep(3000);
  const before = await steadyRss(pulse.pid, 3);
  const heapBefore = (await scrape(pulse.url, ["process_heap_bytes"])).process_heap_bytes!;
  log(`pulse RSS before: ${fmt(before / 2 ** 20, 1)} MB`);

  const per = Math.ceil(total / processes);
  const pubs: PublisherHandle[] = [];
  const t0 = performance.now();
  for (let p = 0; p < processes; p++) {
    const n = Math.min(per, total - p * per);
    if (n <= 0) break;
    const mine = devices.slice(p * per, p * per + n).map((d, i) => ({ ...d, index: p * per + i }));
    const config = { mode: "idle", host: "127.0.0.1", port: pulse.mqttPort, tenant: TENANT, devices: mine, anonymous: auth === "anon" ? n : 0, qos: 0, window: 0, rate: 0, keepalive, connectConcurrency: 100, clientPrefix: `idle${p}` };
    const h = spawnPublisher("mqtt-publisher.ts", config, { nofile: n + 256 });
    pubs.push(h);
    cleanups.push(() => h.stop());
  }
  await Promise.all(pubs.map((p) => p.ready));
  const connectSeconds = (performance.now() - t0) / 1000;
  for (;;) {
    const m = await scrape(pulse.url, ["pulse_mqtt_connections"]);
    if (m.pulse_mqtt_connections! >= total) break;
    await Bun.sleep(200);
  }
  log(`${fmt(total)} connections open (${fmt(total / connectSeconds)} connects/s); settling ${settle} s`);
  await Bun.sleep(settle * 1000);
  const during = await steadyRss(pulse.pid, 5);
  const m = await scrape(pulse.url, ["pulse_mqtt_connections", "process_heap_bytes"]);

  for (const p of pubs) await p.stop();
  for (;;) {
    const c = await scrape(pulse.url, ["pulse_mqtt_connections"]);
    if (c.pulse_mqtt_connections === 0) break;
    await Bun.sleep(200);
  }
  await Bun.sleep(3000);
  const after = await steadyRss(pulse.pid, 3);

  const perConn = (during - before) / total;
  console.log("");
  console.log(
    `RESULT connections ${auth} ${dbKind}: ${fmt(m.pulse_mqtt_connections!)} idle MQTT connections: pulse RSS ${fmt(before / 2 ** 20, 1)} MB → ${fmt(during / 2 ** 20, 1)} MB ` +
      `= ${fmt(perConn / 1024, 1)} KB per connection (target ≤ 10 KB), of which JS heap ${fmt((m.process_heap_bytes! - heapBefore) / total / 1024, 1)} KB (heap in use ${fmt(heapBefore / 2 ** 20, 1)} → ${fmt(m.process_heap_bytes! / 2 ** 20, 1)} MB); ` +
      `after closing them all ${fmt(after / 2 ** 20, 1)} MB; connected at ${fmt(total / connectSeconds)} connects/s`,
  );
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
