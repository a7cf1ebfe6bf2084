// MQTT: publish the notification (the webhook's JSON body) to the embedded
// broker or to an external one (mqtt://, mqtts://, ws://, wss://; MQTT.js).
// The topic is a template — default alerts/{tenant_id}/{severity}/{device_id}
// — built from fields that do not change over an alert's life, so the resolve
// lands on the topic of the alert (and, with retain, replaces it). On the
// embedded broker, which devices of every tenant share, the topic must stay
// under alerts/{tenant_id}/: a tenant can never publish into device command
// topics or another tenant's alerts.

import mqtt, { type MqttClient } from "mqtt";
import { isIP } from "node:net";
import { invalid } from "../../lib/errors.ts";
import { DeliveryError, type ChannelType, type NotificationEvent, type SendContext } from "../channel.ts";
import { oneOf, optionalText } from "./common.ts";

export const DEFAULT_TOPIC = "alerts/{tenant_id}/{severity}/{device_id}";

export interface MqttConfig {
  /** The external broker without credentials (for display); null: the embedded broker. */
  broker: string | null;
  topic: string;
  qos: 0 | 1;
  retain: boolean;
  username: string | null;
}

export interface MqttSecrets {
  /** The external broker's URL (may carry credentials). */
  url?: string;
  password?: string;
}

/** Topic placeholders and where their value comes from. */
export const TOPIC_FIELDS: Record<string, (e: NotificationEvent) => string> = {
  tenant_id: (e) => e.tenant.id,
  severity: (e) => e.alert.severity.toLowerCase(),
  device_id: (e) => e.alert.device_id,
  site_id: (e) => e.alert.site_id ?? "none",
  alert_id: (e) => e.alert.id,
  alert_type: (e) => e.alert.type.toLowerCase(),
  metric: (e) => e.alert.metric_name ?? "none",
};

/** A value never adds topic levels or wildcards. */
const level = (v: string) => v.replace(/[/+#\u0000]/g, "_") || "_";

export function renderTopic(template: string, e: NotificationEvent): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => level(TOPIC_FIELDS[name]!(e)));
}

export function mqttPayload(e: NotificationEvent): string {
  return JSON.stringify({ type: e.type, timestamp: e.timestamp, data: e });
}

function checkTopic(v: unknown, embedded: boolean): string {
  const topic = v === undefined || v === null || v === "" ? DEFAULT_TOPIC : v;
  if (typeof topic !== "string" || topic.length > 512 || /[\u0000\r\n]/.test(topic)) throw invalid("topic", "topic: a topic template of at most 512 characters");
  if (/[+#]/.test(topic) || topic.startsWith("$") || topic.startsWith("/")) throw invalid("topic", "topic: no wildcards (+ #), and not starting with $ or /");
  for (const [, name] of topic.matchAll(/\{([^}]*)\}/g)) {
    if (!(name! in TOPIC_FIELDS)) throw invalid("topic", `topic: unknown placeholder {${name}}; known: ${Object.keys(TOPIC_FIELDS).map((f) => `{${f}}`).join(", ")}`);
  }
  if (/[{}]/.test(topic.replace(/\{\w+\}/g, ""))) throw invalid("topic", "topic: unbalanced { }");
  if (embedded && !topic.startsWith("alerts/{tenant_id}/")) throw invalid("topic", "topic: on the embedded broker the topic must start with alerts/{tenant_id}/");
  return topic;
}

function checkBrokerUrl(v: unknown): { url: string; display: string } | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  let u: URL;
  try {
    if (typeof v !== "string" || v.length > 2000) throw new Error();
    u = new URL(v);
  } catch {
    throw invalid("broker_url", "broker_url: a broker URL like mqtts://broker.example.com:8883 (empty: the embedded broker)");
  }
  if (!["mqtt:", "mqtts:", "ws:", "wss:"].includes(u.protocol) || !u.hostname) throw invalid("broker_url", "broker_url: mqtt://, mqtts://, ws:// or wss:// with a host");
  return { url: v, display: `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}` };
}

async function clientFor(config: MqttConfig, secrets: MqttSecrets, ctx: SendContext): Promise<MqttClient> {
  const u = new URL(secrets.url!);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const address = await ctx.guardHost(host);
  const key = `mqtt:${new Bun.CryptoHasher("sha256").update(JSON.stringify([secrets, config.username, address])).digest("hex")}`;
  const cached = ctx.cache.get(key) as MqttClient | undefined;
  if (cached?.connected) return cached;
  if (cached) {
    ctx.cache.delete(key);
    cached.end(true);
  }
  // Connect to the checked address; TLS still verifies the name.
  u.hostname = isIP(address) === 6 ? `[${address}]` : address;
  const username = config.username ?? (decodeURIComponent(u.username) || undefined);
  const password = secrets.password ?? (decodeURIComponent(u.password) || undefined);
  u.username = "";
  u.password = "";
  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(u.toString(), {
      username,
      password,
      servername: host,
      clientId: `pulse-notify-${crypto.randomUUID().slice(0, 8)}`,
      protocolVersion: 4,
      clean: true,
      connectTimeout: ctx.timeoutMs,
      reconnectPeriod: 0,
    }, false);
  } catch (err) {
    const code = (err as { code?: number }).code;
    // CONNACK 4/5 (bad credentials, not authorized): no retry will help.
    const refused = code === 4 || code === 5 || code === 134 || code === 135;
    throw new DeliveryError(`mqtt: cannot connect to ${host}: ${(err as Error).message}`, { permanent: refused, cause: err });
  }
  client.on("error", (err) => ctx.log.warn("notify: mqtt client error", { error: err.message }));
  client.on("close", () => {
    if (ctx.cache.get(key) === client) ctx.cache.delete(key);
  });
  ctx.cache.set(key, Object.assign(client, { close: () => client.end(true) }));
  return client;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new DeliveryError(`${what}: no answer within ${ms} ms`, { permanent: false })), ms)))]).finally(() => clearTimeout(timer));
}

export const mqttChannel: ChannelType<MqttConfig, MqttSecrets> = {
  type: "mqtt",
  secretFields: ["broker_url", "password"],
  validate(input) {
    const broker = checkBrokerUrl(input.broker_url);
    const topic = checkTopic(input.topic, !broker);
    const qos = Number(oneOf(String(input.qos ?? "1"), "qos", ["0", "1"] as const, "1")) as 0 | 1;
    if (input.retain !== undefined && input.retain !== null && typeof input.retain !== "boolean") throw invalid("retain", "retain: true or false");
    const username = broker ? (optionalText(input.username, "username", 200) ?? null) : null;
    const password = broker ? optionalText(input.password, "password", 500) : undefined;
    return {
      config: { broker: broker?.display ?? null, topic, qos, retain: input.retain === true, username },
      secrets: { ...(broker ? { url: broker.url } : {}), ...(password ? { password } : {}) },
    };
  },
  settingsOf(config, secrets) {
    return { broker_url: secrets.url, username: config.username ?? undefined, password: secrets.password, topic: config.topic, qos: config.qos, retain: config.retain };
  },
  preview(event, config) {
    return { contentType: "application/json", body: `// ${config.broker ?? "embedded broker"} · topic ${renderTopic(config.topic, event)} · QoS ${config.qos}${config.retain ? " · retained" : ""}\n${JSON.stringify(JSON.parse(mqttPayload(event)), null, 2)}` };
  },
  async send(event, config, secrets, ctx) {
    const topic = renderTopic(config.topic, event);
    const payload = mqttPayload(event);
    if (!secrets.url) {
      if (!ctx.publishLocal) throw new DeliveryError("mqtt: the embedded broker is not running (mqtt.enabled is false); give the channel a broker_url", { permanent: true });
      await withTimeout(ctx.publishLocal(topic, payload, config.qos, config.retain), ctx.timeoutMs, "mqtt");
      return { response: `published to ${topic} on the embedded broker` };
    }
    const client = await clientFor(config, secrets, ctx);
    try {
      await withTimeout(client.publishAsync(topic, payload, { qos: config.qos, retain: config.retain }), ctx.timeoutMs, "mqtt: publish");
    } catch (err) {
      client.end(true);
      throw err instanceof DeliveryError ? err : new DeliveryError(`mqtt: publish failed: ${(err as Error).message}`, { permanent: false, cause: err });
    }
    return { response: `published to ${topic} on ${config.broker}` };
  },
};
