// PUBLISH packets read straight off a chunk must come out exactly as
// mqtt-packet's parser would give them, however the bytes are cut into
// chunks, and everything else must still reach the parser.

import { describe, expect, test } from "bun:test";
import mqtt from "mqtt-packet";
import { canParseDirectly, parseChunk, type PacketParser } from "../../src/ingest/publish-parse.ts";

type Packet = Record<string, unknown>;

/** A parser as aedes makes one (after CONNECT: protocolVersion set), collecting what it emits. */
function parserFor(protocolVersion = 4) {
  const parser = mqtt.parser({ protocolVersion }) as unknown as PacketParser & { on(ev: string, fn: (x: unknown) => void): void };
  const packets: Packet[] = [];
  const errors: string[] = [];
  parser.on("packet", (p) => packets.push({ ...(p as Packet) }));
  parser.on("error", (e) => errors.push((e as Error).message));
  return { parser, packets, errors };
}

const publish = (topic: string, payload: string, qos: 0 | 1 = 0, extra: Partial<mqtt.IPublishPacket> = {}) =>
  mqtt.generate({ cmd: "publish", topic, payload: Buffer.from(payload), qos, messageId: qos ? 7 : undefined, retain: false, dup: false, ...extra } as mqtt.IPublishPacket);

/** Plain comparable form: payloads as text. */
const plain = (packets: Packet[]): Packet[] => packets.map((p) => ({ ...p, payload: Buffer.isBuffer(p.payload) ? (p.payload as Buffer).toString("utf8") : p.payload }));

/** The same bytes through the parser alone, in one piece. */
function reference(bytes: Buffer, protocolVersion = 4) {
  const { parser, packets, errors } = parserFor(protocolVersion);
  parser.parse(bytes);
  return { packets: plain(packets), errors };
}

// A small deterministic generator, so a failure can be replayed.
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe("PUBLISH packets read straight off the chunk", () => {
  const acme = "tenant/acme/device/pump-7/telemetry";

  test("a chunk of whole publishes (QoS 0 and 1, retain and dup flags, an empty payload, a non-ASCII topic) gives what the parser gives", () => {
    const bytes = Buffer.concat([
      publish(acme, '{"metrics":{"temp_c":21.5}}'),
      publish(acme, '{"metrics":{"temp_c":22}}', 1),
      publish(acme, "", 0, { retain: true }),
      publish("tenant/acme/device/pömpe/heartbeat", "{}", 1, { dup: true, messageId: 65535 }),
    ]);
    const { parser, packets, errors } = parserFor();
    expect(canParseDirectly(parser)).toBe(true);
    const parse = parser.parse.bind(parser);
    let parserCalls = 0;
    parser.parse = (buf: Buffer) => (parserCalls++, parse(buf));
    parseChunk(parser, bytes, 1 << 20);
    // All read here: the parser was not needed.
    expect(parserCalls).toBe(0);
    expect(errors).toEqual([]);
    expect(plain(packets)).toEqual(reference(bytes).packets);
    expect(packets).toHaveLength(4);
    expect(packets[3]).toMatchObject({ cmd: "publish", qos: 1, dup: true, messageId: 65535, topic: "tenant/acme/device/pömpe/heartbeat" });
    expect("messageId" in packets[0]!).toBe(false);
  });

  test("cut anywhere into chunks, a stream of publishes, pings and a long payload (a 2-byte length) gives the parser's packets in order", () => {
    const stream = Buffer.concat([
      publish(acme, '{"metrics":{"temp_c":20}}', 1),
      mqtt.generate({ cmd: "pingreq" }),
      publish(acme, JSON.stringify({ metrics: { note: "x".repeat(300) } })),
      publish(acme, '{"metrics":{"door_open":true}}', 1),
      mqtt.generate({ cmd: "pingreq" }),
      publish(acme, '{"metrics":{"temp_c":19}}'),
    ]);
    const expected = reference(stream).packets;
    expect(expected.map((p) => p.cmd)).toEqual(["publish", "pingreq", "publish", "publish", "pingreq", "publish"]);
    const random = rng(27);
    for (let round = 0; round < 300; round++) {
      const { parser, packets, errors } = parserFor();
      let at = 0;
      while (at < stream.length) {
        const next = Math.min(stream.length, at + 1 + Math.floor(random() * 120));
        parseChunk(parser, stream.subarray(at, next), 1 << 20);
        at = next;
      }
      expect(errors).toEqual([]);
      expect(plain(packets)).toEqual(expected);
    }
  });

  test("a packet over the size limit, and the rest of its chunk, are left to the parser", () => {
    const big = publish(acme, "y".repeat(500));
    const bytes = Buffer.concat([publish(acme, "{}"), big, publish(acme, "{}")]);
    const { parser, packets } = parserFor();
    const parsed: number[] = [];
    const parse = parser.parse.bind(parser);
    parser.parse = (buf: Buffer) => (parsed.push(buf.length), parse(buf));
    parseChunk(parser, bytes, 100);
    expect(parsed).toEqual([bytes.length - publish(acme, "{}").length]);
    expect(packets).toHaveLength(3);
  });

  test("malformed bytes (QoS 3, a topic longer than its packet) reach the parser, which reports them as before", () => {
    const qos3 = Buffer.from([0x36, 4, 0, 1, 0x61, 0x7b]);
    const topicTooLong = Buffer.from([0x30, 4, 0, 9, 0x61, 0x62]);
    for (const bytes of [qos3, topicTooLong]) {
      const { parser, packets, errors } = parserFor();
      parseChunk(parser, bytes, 1 << 20);
      expect(packets).toEqual([]);
      expect(errors).toEqual(reference(bytes).errors);
      expect(errors.length).toBe(1);
    }
  });

  test("on MQTT 5 (properties in every publish) the parser reads everything", () => {
    const bytes = mqtt.generate({ cmd: "publish", topic: acme, payload: Buffer.from("{}"), qos: 1, messageId: 3, retain: false, dup: false, properties: { contentType: "application/json" } } as mqtt.IPublishPacket, { protocolVersion: 5 });
    const { parser, packets } = parserFor(5);
    parseChunk(parser, bytes, 1 << 20);
    expect(plain(packets)).toEqual(reference(bytes, 5).packets);
    expect(packets[0]).toMatchObject({ properties: { contentType: "application/json" } });
  });
});
