// Read pacing of the embedded broker, on its own (no database): while the
// publishes read but not yet handled are at the cap, connections wait in line
// for a slot. A flooding connection that had a whole chunk read last time
// waits behind a quiet device that has something to say, so the quiet device
// is read at the next free slot and not behind the flood's next chunk. A read
// takes all a connection has buffered, and a WebSocket connection's unread data
// stays with its client, as a TCP connection's stays in the kernel.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PublishPacket } from "aedes";
import { startBroker, type Broker } from "../../src/ingest/broker.ts";
import { mqttWebSocketHandlers, upgradeMqtt } from "../../src/ingest/ws.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { connectMqtt, type MqttClient } from "../helpers/mqtt.ts";
import mqttPacket from "mqtt-packet";
import type { Duplex } from "node:stream";

const CAP = 20;

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(5);
  }
}

type Held = { topic: string; done: (err: Error | null) => void };

/**
 * A broker whose publishes are held here, unhandled (as when the write queue
 * is full), until the test hands them back; `seen` lists their topics in the
 * order they were read.
 */
async function holdingBroker(maxPendingPublishes?: number): Promise<{ broker: Broker; held: Held[]; seen: string[] }> {
  const held: Held[] = [];
  const seen: string[] = [];
  const broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    connectTimeoutMs: 5_000,
    maxPacketBytes: 65_536,
    maxPendingPublishes,
    log: silentLogger(),
    metrics: createMetrics(),
    configure: (aedes) => {
      aedes.authenticate = (_client, _user, _password, done) => done(null, true);
      aedes.authorizePublish = (_client, packet: PublishPacket, done) => {
        seen.push(packet.topic);
        held.push({ topic: packet.topic, done });
      };
    },
  });
  return { broker, held, seen };
}

describe("read pacing under a flood", () => {
  let broker: Broker;
  let held: Held[];
  let seen: string[];
  const clients: MqttClient[] = [];
  const count = (topic: string) => seen.filter((t) => t === topic).length;
  /** A flooder's burst: twice the cap, on one topic. */
  const flood = (client: MqttClient, topic: string) => {
    for (let i = 0; i < 2 * CAP; i++) client.publish(topic, String(i), { qos: 0 });
  };
  /** Hand back the held publishes on a topic (they are queued, say), freeing their slots. */
  const handle = async (topic: string) => {
    for (let i = held.findIndex((h) => h.topic === topic); i >= 0; i = held.findIndex((h) => h.topic === topic)) held.splice(i, 1)[0]!.done(null);
    await Bun.sleep(50);
  };

  beforeAll(async () => {
    ({ broker, held, seen } = await holdingBroker(CAP));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    await broker?.close();
  });

  test("a quiet device waiting in line is read at the next free slot, before a flooder's next chunk", async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const [f1, f2, quiet] = await Promise.all(["flood-1", "flood-2", "quiet"].map((clientId) => connectMqtt(url, { clientId })));
    clients.push(f1!, f2!, quiet!);

    // flood-1's chunk takes the slots (and more); flood-2's waits in line.
    flood(f1!, "f1");
    await until("flood-1's chunk is read", () => count("f1") === 2 * CAP);
    flood(f2!, "f2");
    await Bun.sleep(100);
    expect(count("f2")).toBe(0);
    // Once flood-1's are handled, flood-2's chunk is read (both have now sent whole chunks).
    await handle("f1");
    await until("flood-2's chunk is read", () => count("f2") === 2 * CAP);
    // flood-1 sends on and waits in line; then the quiet device speaks, and waits too.
    flood(f1!, "f1-more");
    await Bun.sleep(100);
    quiet!.publish("quiet", "hello", { qos: 0 });
    await Bun.sleep(100);
    expect([count("f1-more"), count("quiet")]).toEqual([0, 0]);

    // Handling flood-2's frees the slots: the quiet device is read first, then flood-1 goes on.
    await handle("f2");
    await until("both are read", () => count("quiet") === 1 && count("f1-more") === 2 * CAP);
    expect(seen.indexOf("quiet")).toBeLessThan(seen.indexOf("f1-more"));
    await handle("f1-more");
    await handle("quiet");
    expect(held).toEqual([]);
  });

  test("a steady device whose messages piled up while it waited stays in the quiet line, not behind the flooders", async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const [f3, f4, steady] = await Promise.all(["flood-3", "flood-4", "steady"].map((clientId) => connectMqtt(url, { clientId })));
    clients.push(f3!, f4!, steady!);

    // flood-4 sends a whole chunk at once (so it counts as a flooder from then on).
    flood(f4!, "f4-first");
    await until("flood-4's first chunk is read", () => count("f4-first") === 2 * CAP);
    await handle("f4-first");
    // flood-3 takes the slots; flood-4's next chunk waits in line.
    flood(f3!, "f3");
    await until("flood-3's chunk is read", () => count("f3") === 2 * CAP);
    flood(f4!, "f4");
    await Bun.sleep(100);
    // The steady device (a few a second) has six messages waiting after a while: more than a
    // "few" in one chunk, but few for the time since it last spoke.
    await Bun.sleep(400);
    // Written as one piece, so that they arrive (and are read) as one chunk.
    const six = Buffer.concat(Array.from({ length: 6 }, (_, i) => mqttPacket.generate({ cmd: "publish", topic: "steady", payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false })));
    (steady as unknown as { stream: { write(b: Buffer): void } }).stream.write(six);
    await Bun.sleep(100);
    expect([count("f4"), count("steady")]).toEqual([0, 0]);

    // The slots free up: the steady device is read before flood-4.
    await handle("f3");
    await until("both are read", () => count("steady") === 6 && count("f4") === 2 * CAP);
    expect(seen.indexOf("steady")).toBeLessThan(seen.indexOf("f4"));
    await handle("f4");
    await handle("steady");

    // Its six in one chunk did not demote it: waiting again behind a flood, it is still read first.
    flood(f3!, "f3-more");
    await until("flood-3's next chunk is read", () => count("f3-more") === 2 * CAP);
    flood(f4!, "f4-more");
    await Bun.sleep(100);
    steady!.publish("steady-more", "7", { qos: 0 });
    await Bun.sleep(100);
    await handle("f3-more");
    await until("both are read again", () => count("steady-more") === 1 && count("f4-more") === 2 * CAP);
    expect(seen.indexOf("steady-more")).toBeLessThan(seen.indexOf("f4-more"));
    await handle("f4-more");
    await handle("steady-more");
    expect(held).toEqual([]);
  });
});

describe("reading a connection's next chunk", () => {
  let broker: Broker;
  let held: Held[];
  let seen: string[];
  let client: MqttClient | undefined;

  beforeAll(async () => {
    ({ broker, held, seen } = await holdingBroker());
  });
  afterAll(async () => {
    await client?.endAsync(true).catch(() => {});
    await broker?.close();
  });

  test("takes everything that arrived while its last publish was being handled, not one piece of it", async () => {
    // A QoS 1 device at 20 msg/s under a flood: each message arrives on its own while the
    // previous one waits for room in the write queue. Bun's stream.read() hands back only
    // the first piece buffered (Node's hands back all), so one message was read per wait
    // and the device fell seconds behind, its PUBACKs with it.
    client = await connectMqtt(`mqtt://127.0.0.1:${broker.port}`, { clientId: "steady-qos1" });
    const stream = (client as unknown as { stream: { write(b: Buffer): void } }).stream;
    const publish = (topic: string) => stream.write(mqttPacket.generate({ cmd: "publish", topic, payload: Buffer.from("21.5"), qos: 0, retain: false, dup: false }));
    publish("first");
    await until("the first is read", () => seen.length === 1);
    // Eight more, each in a piece of its own, while the first is still held.
    for (let i = 0; i < 8; i++) {
      publish("next");
      await Bun.sleep(15);
    }
    await Bun.sleep(100);
    expect(seen).toEqual(["first"]);

    held.shift()!.done(null);
    await until("all eight are read at once", () => seen.length === 9, 1_000);
    expect(held.map((h) => h.topic)).toEqual(Array(8).fill("next"));
    for (const h of held.splice(0)) h.done(null);
  });
});

describe("MQTT over WebSocket under a flood", () => {
  let broker: Broker;
  let held: Held[];
  let seen: string[];
  let server: ReturnType<typeof Bun.serve>;
  const streams: Duplex[] = [];

  beforeAll(async () => {
    ({ broker, held, seen } = await holdingBroker(CAP));
    const handlers = mqttWebSocketHandlers((stream) => {
      streams.push(stream);
      broker.handle(stream);
    });
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => upgradeMqtt(req, srv) ?? new Response("not found", { status: 404 }), websocket: handlers });
  });
  afterAll(async () => {
    await server?.stop(true);
    await broker?.close();
  });

  test("a client sending faster than its publishes are handled is paused, not buffered in memory, and loses nothing", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/mqtt`, "mqtt");
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    // A packet as the bytes a WebSocket message carries.
    const packet = (p: mqttPacket.Packet) => new Uint8Array(mqttPacket.generate(p));
    ws.send(packet({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "ws-flood", clean: true, keepalive: 60 }));
    // 4 MB of publishes, one WebSocket message each, while none is handled.
    const TOTAL = 1_000;
    const payload = Buffer.alloc(4_000, "x");
    for (let i = 0; i < TOTAL; i++) ws.send(packet({ cmd: "publish", topic: "flood", payload, qos: 0, retain: false, dup: false }));
    await until("the first publishes are read", () => seen.length > 0);
    await Bun.sleep(500);
    // What the pacer has not taken stays with the client (TCP), not in the stream: what
    // Bun had read off the socket when it was paused (about 100 KB here), not megabytes.
    expect(streams).toHaveLength(1);
    expect(streams[0]!.readableLength).toBeLessThan(1024 * 1024);

    // Handled bit by bit, everything still arrives.
    const end = Date.now() + 20_000;
    while (seen.length < TOTAL && Date.now() < end) {
      for (const h of held.splice(0)) h.done(null);
      await Bun.sleep(2);
    }
    for (const h of held.splice(0)) h.done(null);
    expect(seen).toHaveLength(TOTAL);
    ws.close();
  });
});
