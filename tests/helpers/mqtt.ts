// MQTT peers for ingest tests: MQTT.js (protocol 3.1.1) as devices use it,
// a raw TCP socket for what a library will not send, and Debian's
// mosquitto clients. Never port 1883: every Pulse under test has its own.

import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import net from "node:net";
import { existsSync } from "node:fs";

/** Connect as MQTT 3.1.1 without reconnecting; rejects with the CONNACK error. */
export function connectMqtt(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, clean: true, ...opts });
}

/** Connect with connection credentials `tenant/device` + token. */
export function connectDevice(port: number, d: { tenant: string; device: string; token: string }, opts: IClientOptions = {}): Promise<MqttClient> {
  return connectMqtt(`mqtt://127.0.0.1:${port}`, { username: `${d.tenant}/${d.device}`, password: d.token, ...opts });
}

/** The CONNACK refusal a connection attempt ends with (its return code), or throws if it was accepted. */
export async function connectRefusal(url: string, opts: IClientOptions = {}): Promise<number> {
  try {
    const c = await connectMqtt(url, opts);
    await c.endAsync(true);
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code === "number") return code;
    throw err;
  }
  throw new Error("the connection was accepted");
}

export type Outcome = "acked" | "no-ack";

/**
 * Publish QoS 1 and report whether a PUBACK came within waitMs. A refused
 * message gets none (PROTOCOL.md), so "no-ack" is the refusal signal.
 */
export function publishQos1(client: MqttClient, topic: string, payload: string | Buffer, waitMs = 1_500): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("no-ack"), waitMs);
    client.publish(topic, payload, { qos: 1 }, (err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve("acked");
    });
  });
}

/**
 * Send one SUBSCRIBE (QoS 1) for all topics and return the SUBACK's return
 * codes as the broker sent them, in order (0x80 = refused). Read off the
 * packet: MQTT.js turns any refusal into an error for the whole request.
 */
export function subscribeCodes(client: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no SUBACK within 5 s")), 5_000);
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== "suback") return;
      clearTimeout(timer);
      client.removeListener("packetreceive", onPacket);
      resolve(packet.granted.map(Number));
    };
    client.on("packetreceive", onPacket);
    client.subscribe(topics, { qos: 1 }, () => {});
  });
}

/** Resolves once the client's connection closes (true) or after ms (false). */
export function closedWithin(client: MqttClient, ms: number): Promise<boolean> {
  if (!client.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A plain TCP connection that records what the server sends and when it closes. */
export interface RawConn {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves with ms until the server closed, or -1 if still open after ms. */
  closedWithin(ms: number): Promise<number>;
}

export async function rawConnect(port: number): Promise<RawConn> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Buffer[] = [];
  const opened = performance.now();
  let closedAt = 0;
  const closed = new Promise<void>((resolve) => socket.once("close", () => ((closedAt = performance.now()), resolve())));
  socket.on("data", (b: Buffer) => chunks.push(b));
  socket.on("error", () => {});
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closedWithin: (ms) => Promise.race([closed.then(() => closedAt - opened), Bun.sleep(ms).then(() => -1)]),
  };
}

/** An MQTT 5 CONNECT packet (clean start, keepalive 60, no properties, client id "v5"). */
export const MQTT5_CONNECT = Buffer.from([0x10, 0x0f, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x02, 0x76, 0x35]);

/** The Debian mosquitto client binaries; a missing one fails the test, loudly. */
export function mosquittoBin(name: "mosquitto_pub" | "mosquitto_sub"): string {
  const path = `/usr/bin/${name}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: install Debian's mosquitto-clients (apt-get install mosquitto-clients); these tests need a real third-party MQTT peer`);
  return path;
}

/** Run a mosquitto client to completion (killed after timeoutMs). */
export async function runMosquitto(name: "mosquitto_pub" | "mosquitto_sub", args: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([mosquittoBin(name), ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin" } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export type { MqttClient };
