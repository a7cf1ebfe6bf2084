// The device side of the embedded broker (PROTOCOL.md): who may connect,
// what they may publish and subscribe to, and how a publish becomes a queued
// message. A QoS 1 PUBACK is sent only after the message is committed; a
// refused message is dropped and counted, without a PUBACK, and the
// connection stays up. When the write queue is full, publishes wait, which
// stops aedes from reading that socket (backpressure) instead of dropping.

import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from "aedes";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Clock } from "../lib/clock.ts";
import type { Credential, Gate } from "./accept.ts";
import { parseMessage, parseTopic, SLUG } from "./parse.ts";
import { matchToken, type Registry } from "./registry.ts";
import type { Writer } from "./writer.ts";

export interface MqttIngestOptions {
  gate: Gate;
  registry: Registry;
  writer: Writer;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  maxMessageBytes: number;
  allowEnvelopeAuth: boolean;
  maxConnectionsPerTenant: number;
}

/** What we know about a connection, kept on the aedes client. */
interface Session {
  cred: Credential;
  tenantId?: string;
  /** The last topic published to, parsed. */
  topic?: string;
  origin?: ReturnType<typeof parseTopic>;
}

const HANDLED = Symbol("pulse.handled");
type Handled = { [HANDLED]?: boolean };

const session = (c: Client | null): Session | undefined => (c as unknown as { pulse?: Session } | null)?.pulse;

// Refused publishes are turned into QoS 0 messages on a topic nobody can
// subscribe to: aedes then sends no PUBACK and keeps the connection, as the
// protocol promises ("dropped and counted; for QoS 1 no PUBACK").
const SINK = "$pulse/dropped";

// Every connection without credentials has the same one (the token is in each message): one object for all of them.
const ANONYMOUS: Credential = Object.freeze({ kind: "token", token: undefined });

function refuse(code: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

export function attachMqttIngest(aedes: Aedes, opts: MqttIngestOptions): void {
  const perTenant = new Map<string, number>();
  const dropped = opts.metrics.counter("pulse_mqtt_dropped_total", "MQTT publishes refused (not acknowledged).");

  aedes.authenticate = (client, username, password, done) => {
    void (async () => {
      if (username === undefined || username === "") {
        if (!opts.allowEnvelopeAuth) return done(refuse(5, "credentials required"), false);
        // Gateways and older devices: no credentials; each message carries its device's token.
        setSession(client, { cred: ANONYMOUS }, `anon:${client.id}`);
        return done(null, true);
      }
      const [tenantId, deviceId, extra] = username.split("/");
      if (extra !== undefined || !tenantId || !deviceId || !SLUG.test(tenantId) || !SLUG.test(deviceId)) {
        return done(refuse(4, "username must be tenant_id/device_id"), false);
      }
      const auth = await opts.registry.get(tenantId, deviceId);
      const tokenId = auth && password ? matchToken(auth, password.toString("utf8"), opts.clock.now().getTime()) : undefined;
      if (!auth || !auth.device || !tokenId) return done(refuse(4, "bad username or password"), false);
      if (auth.tenantStatus !== "ACTIVE" || auth.device.status !== "ACTIVE") return done(refuse(5, "not authorized"), false);
      const open = perTenant.get(tenantId) ?? 0;
      if (open >= opts.maxConnectionsPerTenant) return done(refuse(3, "tenant connection limit reached"), false);
      perTenant.set(tenantId, open + 1);
      // Client ids live in the tenant's namespace: globex can never take over an acme session.
      setSession(client, { cred: { kind: "connection", tenantId, deviceId, tokenId }, tenantId }, `${tenantId}:${client.id}`);
      done(null, true);
    })().catch((err) => {
      opts.log.error("mqtt: authentication failed", { error: err });
      done(refuse(3, "server unavailable"), false);
    });
  };

  aedes.on("clientDisconnect", (client) => {
    const t = session(client)?.tenantId;
    if (t) perTenant.set(t, Math.max(0, (perTenant.get(t) ?? 1) - 1));
  });

  aedes.authorizeSubscribe = (client, sub, done) => {
    const s = session(client);
    // Only a device's own command topic; never wildcards, $SYS or other devices.
    const own = s?.cred.kind === "connection" ? `tenant/${s.cred.tenantId}/device/${s.cred.deviceId}/commands` : undefined;
    done(null, own && sub.topic === own ? sub : (null as unknown as Subscription));
  };

  // A QoS 1 publish is handed back to aedes as soon as it is queued, as QoS 0
  // (so aedes sends no PUBACK of its own), and acknowledged here once it is
  // committed. aedes reads a connection's next packets only when the previous
  // ones are handed back: waiting for the commit there allowed one message per
  // commit (up to flush_ms plus the write) per connection, whatever the device's window.
  // PUBACKs still go out in order: batches commit in queue order.
  const puback = (client: Client, messageId: number | undefined) => (err?: Error) => {
    if (err) return void dropped.inc({ reason: "NOT_WRITTEN" });
    const c = client as unknown as { connected?: boolean; conn?: { destroyed?: boolean; write(b: Uint8Array): unknown } };
    if (messageId === undefined || !c.connected || !c.conn || c.conn.destroyed) return;
    c.conn.write(new Uint8Array([0x40, 2, messageId >> 8, messageId & 255]));
  };

  aedes.authorizePublish = (client, packet, done) => {
    const s = session(client);
    if (!client || !s) return done(new Error("not connected"));
    void handlePublish(s, packet, packet.qos > 0 ? puback(client, packet.messageId) : undefined).then(
      (outcome) => {
        if (outcome !== "accepted") {
          dropped.inc({ reason: outcome });
          packet.topic = SINK;
        }
        // Stored, not routed (see below), not retained; acknowledged by us, if at all.
        packet.qos = 0;
        packet.retain = false;
        (packet as Handled)[HANDLED] = true;
        done(null);
      },
      (err) => done(err),
    );
  };

  // Devices' messages are stored, not routed: nobody may subscribe to their
  // topics (authorizeSubscribe), so aedes's routing of them (topic matching,
  // its publish pipeline) is skipped. Pulse's own publishes (notifications
  // over MQTT) go through as before.
  // (aedes calls publish(packet, client, done) internally; its types know only publish(packet, done).)
  const publish = aedes.publish.bind(aedes) as unknown as (...args: unknown[]) => void;
  aedes.publish = ((packet: PublishPacket, client: unknown, done?: (err?: Error) => void) => {
    if (!(packet as Handled)[HANDLED]) return publish(packet, client, done);
    (typeof client === "function" ? (client as (err?: Error) => void) : done)?.();
  }) as unknown as typeof aedes.publish;

  /** "accepted" once queued (QoS 1: `ack` is called once it is committed); otherwise the reason it was refused. */
  async function handlePublish(s: Session, packet: PublishPacket, ack?: (err?: Error) => void): Promise<string> {
    // Devices publish to the same topic over and over: parsed once per connection.
    const origin = packet.topic === s.topic ? s.origin : parseTopic((s.topic = packet.topic));
    s.origin = origin;
    const payload = packet.payload as Buffer;
    if (!origin) {
      opts.gate.reject({ tenantId: s.tenantId, reason: "INVALID_TOPIC", detail: "topic must be tenant/{tenant}/device/{device}/{telemetry|heartbeat}", transport: "mqtt", topic: packet.topic, payload, time: opts.clock.now() });
      return "INVALID_TOPIC";
    }
    // A connection authenticated as a device answers for what it sends: a publish
    // under another device's topic is kept in the sender's quarantine, never in the
    // (tenant-readable) quarantine of the tenant whose topic it tried.
    if (s.cred.kind === "connection" && (origin.tenantId !== s.cred.tenantId || origin.deviceId !== s.cred.deviceId)) {
      const { tenantId, deviceId } = s.cred;
      opts.gate.reject({ tenantId, deviceId, reason: "INVALID_TOPIC", detail: `this connection is ${tenantId}/${deviceId}; it may publish only for that device`, transport: "mqtt", topic: packet.topic, payload, time: opts.clock.now() });
      return "INVALID_TOPIC";
    }
    const parsed = parseMessage(payload, origin, { now: opts.clock.now(), maxBytes: opts.maxMessageBytes });
    if (!parsed.ok) {
      opts.gate.reject({ tenantId: parsed.tenantId, deviceId: parsed.deviceId, reason: parsed.reason, detail: parsed.detail, transport: "mqtt", topic: packet.topic, payload, time: opts.clock.now() });
      return parsed.reason;
    }
    const cred: Credential = s.cred.kind === "connection" ? s.cred : { kind: "token", token: parsed.env.provisionToken };
    // Queue full: the message waits for room (this socket is not read meanwhile).
    const verdict = await opts.gate.admit(parsed.env, cred, { transport: "mqtt", topic: packet.topic, payload, done: ack, wait: true });
    if (!verdict.ok) return verdict.reason;
    if (!verdict.queued) throw new Error("ingest: shutting down");
    return "accepted";
  }
}

function setSession(client: Client, s: Session, id: string): void {
  (client as unknown as { pulse: Session }).pulse = s;
  (client as unknown as { id: string }).id = id;
}
