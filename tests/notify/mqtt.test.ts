// MQTT: the alert and then its resolve on one topic, published to the
// embedded broker or to an external one (here a stand-alone broker on
// loopback, read by an MQTT.js subscriber), with QoS 1 and retain.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import { startMqttBroker, type MqttBroker } from "../helpers/receivers.ts";
import { startWorld, type World } from "./fixtures.ts";

let w: World;
let broker: MqttBroker;
const AUTH = { username: "pulse", password: "broker-secret" };

beforeAll(async () => {
  broker = await startMqttBroker(AUTH);
  w = await startWorld();
}, 60_000);
afterEach(() => w.reset(), 60_000);
afterAll(async () => {
  await w.stop();
  await broker.stop();
}, 60_000);

interface Message {
  topic: string;
  body: { type: string; data: { id: string; alert: { id: string; device_id: string } } };
  retain: boolean;
}

async function subscriber(topic: string): Promise<{ client: MqttClient; messages: Message[] }> {
  const client = await mqtt.connectAsync(broker.url, { ...AUTH, protocolVersion: 4, reconnectPeriod: 0, clientId: `sub-${crypto.randomUUID().slice(0, 8)}` });
  const messages: Message[] = [];
  client.on("message", (t, payload, packet) => messages.push({ topic: t, body: JSON.parse(payload.toString()), retain: packet.retain }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { client, messages };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Fire then clear one alert on a device; returns the alert id. */
async function fireAndClear(metric: string, device: "pump-7" | "pump-8" = "pump-7"): Promise<string> {
  await w.rule(metric);
  await w.send(device, { [metric]: 99 });
  const id = (await w.alertOf(device, metric))!.id;
  await w.send(device, { [metric]: 1 });
  await w.drain();
  return id;
}

describe("external broker", () => {
  test("an MQTT.js subscriber gets the alert, then the resolve on the same topic; the resolve is retained", async () => {
    const sub = await subscriber("alerts/acme/#");
    try {
      const ch = await w.channel("mqtt", { broker_url: broker.url, username: AUTH.username, password: AUTH.password, qos: 1, retain: true });
      await w.route(ch);
      const alertId = await fireAndClear("m_mqtt");
      await until(() => sub.messages.length >= 2, "two messages");
      expect(sub.messages.map((m) => [m.topic, m.body.type, m.body.data.alert.id])).toEqual([
        ["alerts/acme/critical/pump-7", "alert.triggered", alertId],
        ["alerts/acme/critical/pump-7", "alert.resolved", alertId],
      ]);
      expect((await w.deliveries(ch)).map((d) => d.status)).toEqual(["delivered", "delivered"]);
      // Someone who subscribes later finds the alert's last state there.
      const late = await subscriber("alerts/acme/critical/pump-7");
      try {
        await until(() => late.messages.length >= 1, "the retained message");
        expect(late.messages[0]).toMatchObject({ retain: true, body: { type: "alert.resolved" } });
      } finally {
        await late.client.endAsync(true);
      }
    } finally {
      await sub.client.endAsync(true);
    }
  });

  test("topic templates fill placeholders", async () => {
    const sub = await subscriber("fleet/#");
    try {
      const ch = await w.channel("mqtt", { broker_url: broker.url, username: AUTH.username, password: AUTH.password, topic: "fleet/{tenant_id}/{site_id}/{device_id}/{alert_type}/{metric}", qos: 0 });
      await w.route(ch, { transitions: ["triggered"] });
      await fireAndClear("m_topic", "pump-8");
      await until(() => sub.messages.length >= 1, "a message");
      expect(sub.messages.map((m) => m.topic)).toEqual(["fleet/acme/depot/pump-8/threshold/m_topic"]);
    } finally {
      await sub.client.endAsync(true);
    }
  });

  test("a broker refusing the credentials makes a dead letter", async () => {
    const ch = await w.channel("mqtt", { broker_url: broker.url, username: AUTH.username, password: "wrong" });
    await w.route(ch, { transitions: ["triggered"] });
    await fireAndClear("m_refused");
    const [d] = await w.deliveries(ch);
    expect(d).toMatchObject({ status: "dead", attempts: 1 });
    expect(d!.last_error).toContain("cannot connect");
  });
});

describe("embedded broker", () => {
  test("publishes the alert and the resolve on alerts/{tenant_id}/{severity}/{device_id}", async () => {
    const aedes = w.pulse.app.broker()!.aedes;
    const got: Array<{ topic: string; body: Message["body"]; qos: number }> = [];
    const deliver = (packet: { topic: string; payload: string | Buffer; qos: number }, cb: () => void) => {
      got.push({ topic: packet.topic, body: JSON.parse(packet.payload.toString()), qos: packet.qos });
      cb();
    };
    await new Promise<void>((resolve) => aedes.subscribe("alerts/acme/#", deliver as never, resolve));
    try {
      const ch = await w.channel("mqtt", {});
      expect((await w.api(`/notification-channels/${ch}`)).body.config).toMatchObject({ broker: null, topic: "alerts/{tenant_id}/{severity}/{device_id}", qos: 1 });
      await w.route(ch);
      const alertId = await fireAndClear("m_local");
      await until(() => got.length >= 2, "two messages");
      expect(got.map((m) => [m.topic, m.body.type, m.body.data.alert.id, m.qos])).toEqual([
        ["alerts/acme/critical/pump-7", "alert.triggered", alertId, 1],
        ["alerts/acme/critical/pump-7", "alert.resolved", alertId, 1],
      ]);
      expect((await w.deliveries(ch)).map((d) => d.status)).toEqual(["delivered", "delivered"]);
    } finally {
      await new Promise<void>((resolve) => aedes.unsubscribe("alerts/acme/#", deliver as never, resolve));
    }
  });
});
