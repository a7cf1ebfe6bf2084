// The broker's per-connection memory savings (src/ingest/lean.ts), on the
// broker alone: with the pinned aedes they all apply (an upgrade that moves
// the internals they use fails here, not only in a warning), and a trimmed
// connection behaves as aedes made it: packets split across reads or several
// in one, credentials at CONNECT, a malformed packet, a device that hangs up
// (closing, half-closing, resetting), a stream destroyed with neither an end
// nor an error, and shutdown with a connection that never sent CONNECT.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Duplex } from "node:stream";
import type { Aedes, Client, PublishPacket } from "aedes";
import { startBroker, type Broker } from "../../src/ingest/broker.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createMetrics } from "../../src/lib/metrics.ts";
import { connectMqtt, rawConnect } from "../helpers/mqtt.ts";

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(5);
  }
}

// CONNECT 3.1.1, clean session, keepalive 60 s, client id `id`; with username and password when given.
function connectPacket(id: string, username?: string, password?: string): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 255]), Buffer.from(s)]);
  const flags = 0x02 | (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([str("MQTT"), Buffer.from([4, flags, 0, 60]), str(id), ...(username !== undefined ? [str(username)] : []), ...(password !== undefined ? [str(password)] : [])]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}
function publishPacket(topic: string, payload: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 255]), Buffer.from(topic), payload]);
  const len: number[] = [];
  for (let x = body.length; ; ) {
    const b = x % 128;
    x = Math.floor(x / 128);
    len.push(x > 0 ? b | 0x80 : b);
    if (x === 0) break;
  }
  return Buffer.concat([Buffer.from([0x30, ...len]), body]);
}
const CONNACK_OK = [0x20, 0x02, 0x00, 0x00];

describe("per-connection memory savings", () => {
  let broker: Broker;
  const logs: string[] = [];
  const published: Array<{ topic: string; payload: Buffer }> = [];
  const logins: Array<{ username?: string; password?: string }> = [];
  const disconnects: string[] = [];
  const errors: string[] = [];
  const client = (aedes: Aedes, id: string) => (aedes as unknown as { clients: Record<string, Client> }).clients[id];

  beforeAll(async () => {
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      connectTimeoutMs: 5_000,
      maxPacketBytes: 65_536,
      log: createLogger({ level: "warn", format: "json", write: (line) => logs.push(line) }),
      metrics: createMetrics(),
      configure: (aedes) => {
        aedes.authenticate = (_client, username, password, done) => {
          logins.push({ username, password: password?.toString() });
          done(null, password === undefined || password.toString() === "s3cret");
        };
        aedes.authorizePublish = (_client, packet: PublishPacket, done) => {
          published.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer) });
          done(null);
        };
        aedes.on("clientDisconnect", (c) => disconnects.push(c.id));
        aedes.on("clientError", (c, err) => errors.push(`${c.id}: ${err.message}`));
      },
    });
  });
  afterAll(async () => {
    await broker?.close();
  });

  test("all apply to the pinned aedes: a connection's parser keeps a plain buffer list and not its CONNECT, and nothing is logged", async () => {
    const conn = await rawConnect(broker.port);
    conn.socket.write(connectPacket("acme-d1", "acme/d1", "s3cret"));
    await until("connected", () => conn.received().length >= 4);
    const c = client(broker.aedes, "acme-d1") as unknown as { _eos: () => void; _parser: { _list: object; settings: object } };
    expect(c).toBeDefined();
    expect("_readableState" in c._parser._list).toBe(false);
    expect(c._parser.settings).toEqual({ protocolVersion: 4 });
    expect(c._eos.name).toBe("noop");
    expect(logs.filter((l) => l.includes("aedes internals"))).toEqual([]);
    conn.socket.destroy();
    await until("disconnected", () => disconnects.includes("acme-d1"));
  });

  test("packets split across reads, and several in one read, are parsed as sent; credentials reach authenticate", async () => {
    const conn = await rawConnect(broker.port);
    const big = Buffer.alloc(20_000, 7);
    const bytes = Buffer.concat([connectPacket("acme-d2", "acme/d2", "s3cret"), publishPacket("t/one", Buffer.from("1")), publishPacket("t/big", big), publishPacket("t/two", Buffer.from("2"))]);
    // A byte at a time for the CONNECT and the first header, then uneven pieces.
    let off = 0;
    for (const size of [...Array(40).fill(1), 7, 999, 5_000, 3, 100_000]) {
      if (off >= bytes.length) break;
      conn.socket.write(bytes.subarray(off, off + size));
      off += size;
      await Bun.sleep(1);
    }
    await until("three publishes", () => published.filter((p) => p.topic.startsWith("t/")).length === 3);
    expect([...conn.received().subarray(0, 4)]).toEqual(CONNACK_OK);
    expect(logins).toContainEqual({ username: "acme/d2", password: "s3cret" });
    expect(published.map((p) => p.topic)).toEqual(["t/one", "t/big", "t/two"]);
    expect(published[1]!.payload.equals(big)).toBe(true);
    conn.socket.destroy();
    await until("disconnected", () => disconnects.includes("acme-d2"));
  });

  test("a malformed packet closes the connection as an error", async () => {
    const conn = await rawConnect(broker.port);
    conn.socket.write(connectPacket("acme-d3"));
    await until("connected", () => conn.received().length >= 4);
    // PUBLISH with both QoS bits set: mqtt-packet refuses it.
    conn.socket.write(Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61]));
    expect(await conn.closedWithin(3_000)).toBeGreaterThanOrEqual(0);
    await until("disconnected", () => disconnects.includes("acme-d3"));
    expect(errors.some((e) => e.startsWith("acme-d3: "))).toBe(true);
  });

  test("a device that hangs up, without DISCONNECT, is let go: by closing, by half-closing, or with MQTT.js", async () => {
    const gone = await rawConnect(broker.port);
    gone.socket.write(connectPacket("acme-d4"));
    const half = await rawConnect(broker.port);
    half.socket.write(connectPacket("acme-d5"));
    const lib = await connectMqtt(`mqtt://127.0.0.1:${broker.port}`, { clientId: "acme-d6" });
    await until("all connected", () => ["acme-d4", "acme-d5", "acme-d6"].every((id) => client(broker.aedes, id)));
    expect(broker.connections()).toBe(3);
    gone.socket.destroy();
    half.socket.end();
    lib.stream.destroy();
    expect(await half.closedWithin(3_000)).toBeGreaterThanOrEqual(0);
    await until("all disconnected", () => ["acme-d4", "acme-d5", "acme-d6"].every((id) => disconnects.includes(id)));
    expect(broker.connections()).toBe(0);
  });

  test("a connection destroyed without an end or an error (as a WebSocket's is) is let go", async () => {
    const sent: Buffer[] = [];
    const stream = new Duplex({ read() {}, write: (chunk: Buffer, _enc, cb) => (sent.push(chunk), cb()) });
    broker.handle(stream);
    stream.push(connectPacket("acme-d8"));
    await until("connected", () => client(broker.aedes, "acme-d8") !== undefined && sent.length > 0);
    stream.destroy();
    await until("disconnected", () => disconnects.includes("acme-d8"));
    expect(broker.connections()).toBe(0);
  });

  test("a connection reset by the device is let go", async () => {
    const conn = await rawConnect(broker.port);
    conn.socket.write(connectPacket("acme-d9"));
    await until("connected", () => conn.received().length >= 4);
    conn.socket.resetAndDestroy();
    await until("disconnected", () => disconnects.includes("acme-d9"));
    expect(broker.connections()).toBe(0);
  });

  test("closing the broker ends a connected device and a connection that never sent CONNECT", async () => {
    const connected = await rawConnect(broker.port);
    connected.socket.write(connectPacket("acme-d7"));
    await until("connected", () => connected.received().length >= 4);
    const silent = await rawConnect(broker.port);
    const t0 = performance.now();
    await broker.close();
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(await connected.closedWithin(1_000)).toBeGreaterThanOrEqual(0);
    expect(await silent.closedWithin(1_000)).toBeGreaterThanOrEqual(0);
  });
});
