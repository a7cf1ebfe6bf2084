// pulse simulate: a load and demo generator. It provisions N devices in a
// tenant (demo by default), then publishes realistic telemetry and
// heartbeats over MQTT (one connection per device, its own credentials) or
// HTTP batches, printing messages a second and errors as it goes.

import mqtt, { type MqttClient } from "mqtt";
import { runCommand } from "../control/client.ts";
import { reading, simDevice, type SimDevice } from "../ingest/simulator.ts";
import { CONFIG_OPTION, EXIT_FAILURE, EXIT_OK, UsageError, guard, parse, quietLogger, readConfig, type Command } from "./command.ts";

interface Setup {
  tenant: string;
  site: string;
  heartbeatSeconds: number;
  devices: Array<{ id: string; token: string }>;
}

export const simulate: Command = {
  name: "simulate",
  summary: "Provision simulated devices and publish realistic telemetry (demo and load)",
  usage: `Usage: pulse simulate [--devices N] [--rate R] [--transport mqtt|http] [--qos 0|1]
                      [--tenant T] [--site S] [--seconds D] [--host H]

Creates (or reuses) devices sim-0001 … sim-N in tenant T (default demo, created
if missing) with fresh tokens, then publishes R messages a second per device
(default 1) plus heartbeats, until Ctrl-C or --seconds. Prints msgs/s and
errors every 5 s. It connects to the ports in the configuration (http.port,
mqtt.port) on --host (default 127.0.0.1).

Options:
  --devices N      devices to simulate (default 20)
  --rate R         messages a second per device (default 1; fractions allowed)
  --transport T    mqtt (default) or http (batches to /ingest/v1/batch)
  --qos Q          MQTT QoS 0 or 1 (default 1: acknowledged after commit)
  -c, --config PATH, --json (final summary as JSON), -h, --help`,
  run: (argv, io) =>
    guard(io, simulate, async () => {
      const { values } = parse(argv, {
        ...CONFIG_OPTION,
        json: { type: "boolean" },
        devices: { type: "string" },
        rate: { type: "string" },
        transport: { type: "string" },
        qos: { type: "string" },
        tenant: { type: "string" },
        site: { type: "string" },
        seconds: { type: "string" },
        host: { type: "string" },
      });
      if (values.help) return io.out(simulate.usage), EXIT_OK;
      const count = Number(values.devices ?? 20);
      const rate = Number(values.rate ?? 1);
      const transport = values.transport ?? "mqtt";
      const qos = Number(values.qos ?? 1);
      const seconds = values.seconds === undefined ? Infinity : Number(values.seconds);
      if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new UsageError("--devices: a whole number from 1 to 100000");
      if (!(rate > 0 && rate <= 1000)) throw new UsageError("--rate: messages a second per device, above 0 and at most 1000");
      if (transport !== "mqtt" && transport !== "http") throw new UsageError("--transport: mqtt or http");
      if (qos !== 0 && qos !== 1) throw new UsageError("--qos: 0 or 1");
      if (!(seconds > 0)) throw new UsageError("--seconds: above 0");
      const config = readConfig(values.config, io.env);
      const host = values.host ?? "127.0.0.1";

      const { result } = await runCommand(config, quietLogger(config), "simulate.setup", { tenant: values.tenant ?? "demo", site: values.site ?? "sim-1", devices: count });
      const setup = result as Setup;
      io.err(`simulating ${setup.devices.length} devices in tenant ${setup.tenant} over ${transport} at ${rate}/s each; Ctrl-C stops`);

      const stats = { sent: 0, acked: 0, errors: 0, lastError: "" };
      const sims = setup.devices.map((d, i) => ({ ...d, sim: simDevice(d.id, i) }));
      let stop = false;
      const stopAll = () => (stop = true);
      process.once("SIGINT", stopAll);
      process.once("SIGTERM", stopAll);
      const started = Date.now();
      let reported = { at: started, acked: 0 };
      const report = setInterval(() => {
        const now = Date.now();
        io.err(`${Math.round(((stats.acked - reported.acked) * 1000) / (now - reported.at))} msg/s acknowledged · ${stats.sent} sent · ${stats.errors} errors${stats.lastError ? ` (last: ${stats.lastError})` : ""}`);
        reported = { at: now, acked: stats.acked };
      }, 5000);

      try {
        if (transport === "mqtt") await runMqtt(sims, setup, { host, port: config["mqtt.port"], qos, rate, stats, until: () => stop || Date.now() - started >= seconds * 1000 });
        else await runHttp(sims, setup, { host, port: config["http.port"], rate, stats, until: () => stop || Date.now() - started >= seconds * 1000 });
      } finally {
        clearInterval(report);
      }
      const elapsed = (Date.now() - started) / 1000;
      const summary = { devices: sims.length, transport, seconds: Math.round(elapsed), sent: stats.sent, acknowledged: stats.acked, errors: stats.errors, msgs_per_second: Math.round(stats.acked / elapsed) };
      if (values.json) io.out(JSON.stringify(summary, null, 2));
      else io.out(`sent ${summary.sent}, acknowledged ${summary.acknowledged} (${summary.msgs_per_second} msg/s), errors ${summary.errors}`);
      return stats.errors > 0 && stats.acked === 0 ? EXIT_FAILURE : EXIT_OK;
    }),
};

type Sim = { id: string; token: string; sim: SimDevice };
type Stats = { sent: number; acked: number; errors: number; lastError: string };

async function runMqtt(sims: Sim[], setup: Setup, o: { host: string; port: number; qos: 0 | 1 | number; rate: number; stats: Stats; until: () => boolean }): Promise<void> {
  const clients: MqttClient[] = [];
  try {
    // Connect in small waves so a thousand devices do not arrive in the same millisecond.
    for (let i = 0; i < sims.length; i += 50) {
      const wave = sims.slice(i, i + 50);
      clients.push(
        ...(await Promise.all(
          wave.map((s) =>
            mqtt.connectAsync(`mqtt://${o.host}:${o.port}`, { username: `${setup.tenant}/${s.id}`, password: s.token, clientId: `sim-${setup.tenant}-${s.id}`, protocolVersion: 4, reconnectPeriod: 1000, connectTimeout: 10_000 }),
          ),
        )),
      );
    }
    const intervalMs = 1000 / o.rate;
    let lastHeartbeat = 0;
    for (let tick = Date.now(); !o.until(); tick += intervalMs) {
      const now = Date.now();
      const heartbeat = now - lastHeartbeat >= (setup.heartbeatSeconds * 1000) / 2;
      if (heartbeat) lastHeartbeat = now;
      sims.forEach((s, i) => {
        const c = clients[i]!;
        const base = `tenant/${setup.tenant}/device/${s.id}`;
        const send = (topic: string, body: unknown) => {
          o.stats.sent++;
          c.publish(topic, JSON.stringify(body), { qos: o.qos as 0 | 1 }, (err) => {
            if (err) {
              o.stats.errors++;
              o.stats.lastError = err.message;
            } else o.stats.acked++;
          });
        };
        send(`${base}/telemetry`, { version: "1", ...reading(s.sim, now) });
        if (heartbeat) send(`${base}/heartbeat`, { version: "1", ts: now / 1000 });
      });
      const wait = tick + intervalMs - Date.now();
      if (wait > 0) await Bun.sleep(wait);
    }
    await Bun.sleep(500);
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
  }
}

async function runHttp(sims: Sim[], setup: Setup, o: { host: string; port: number; rate: number; stats: Stats; until: () => boolean }): Promise<void> {
  const url = `http://${o.host}:${o.port}/ingest/v1/batch`;
  const intervalMs = Math.max(200, 1000 / o.rate);
  const perTick = Math.max(1, Math.round((o.rate * intervalMs) / 1000));
  let lastHeartbeat = 0;
  for (let tick = Date.now(); !o.until(); tick += intervalMs) {
    const now = Date.now();
    const messages: unknown[] = [];
    for (const s of sims) {
      for (let k = 0; k < perTick; k++) messages.push({ tenant_id: setup.tenant, device_id: s.id, msg_type: "telemetry", provision_token: s.token, version: "1", ...reading(s.sim, now) });
    }
    if (now - lastHeartbeat >= (setup.heartbeatSeconds * 1000) / 2) {
      lastHeartbeat = now;
      for (const s of sims) messages.push({ tenant_id: setup.tenant, device_id: s.id, msg_type: "heartbeat", provision_token: s.token, version: "1" });
    }
    for (let i = 0; i < messages.length; i += 1000) {
      const chunk = messages.slice(i, i + 1000);
      o.stats.sent += chunk.length;
      try {
        const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ messages: chunk }) });
        const body = (await res.json()) as { accepted?: number; rejected?: number; results?: Array<{ ok: boolean; reason?: string }> };
        if (res.status !== 202) {
          o.stats.errors += chunk.length;
          o.stats.lastError = `HTTP ${res.status}`;
          continue;
        }
        o.stats.acked += body.accepted ?? 0;
        o.stats.errors += body.rejected ?? 0;
        const bad = body.results?.find((r) => !r.ok);
        if (bad) o.stats.lastError = bad.reason ?? "rejected";
      } catch (err) {
        o.stats.errors += chunk.length;
        o.stats.lastError = (err as Error).message;
      }
    }
    const wait = tick + intervalMs - Date.now();
    if (wait > 0) await Bun.sleep(wait);
  }
}
