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
}

const session = (c: Client | null): Session | undefined => (c as unknown as { pulse?: Session } | null)?.pulse;

// Refused publishes are turned into QoS 0 messages on a topic nobody can
// subscribe to: aedes then sends no PUBACK and keeps the connection, as the
// protocol promises ("dropped and counted; for QoS 1 no PUBACK").
const SINK = "$pulse/dropped";

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
        setSession(client, { cred: { kind: "token", token: undefined } }, `anon:${client.id}`);
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

  aedes.authorizePublish = (client, packet, done) => {
    const s = session(client);
    if (!client || !s) return done(new Error("not connected"));
    void handlePublish(s, packet).then(
      (outcome) => {
        if (outcome !== "accepted") {
          dropped.inc({ reason: outcome });
          packet.topic = SINK;
          packet.qos = 0;
        }
        // Devices' messages are stored, not routed or retained by the broker.
        packet.retain = false;
        done(null);
      },
      (err) => done(err),
    );
  };

  /** "accepted" once queued (QoS 0) or committed (QoS 1); otherwise the reason it was refused. */
  async function handlePublish(s: Session, packet: PublishPacket): Promise<string> {
    const origin = parseTopic(packet.topic);
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
    let settle: ((err?: Error) => void) | undefined;
    const commit = packet.qos > 0 ? new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve()))) : undefined;
    // Queue full: the message waits for room (this socket is not read meanwhile).
    const verdict = await opts.gate.admit(parsed.env, cred, { transport: "mqtt", topic: packet.topic, payload, done: settle, wait: true });
    if (!verdict.ok) return verdict.reason;
    if (!verdict.queued) throw new Error("ingest: shutting down");
    if (commit) await commit;
    return "accepted";
  }
}

function setSession(client: Client, s: Session, id: string): void {
  (client as unknown as { pulse: Session }).pulse = s;
  (client as unknown as { id: string }).id = id;
}
