// The gate every message passes, whatever its transport: parsed envelope in,
// a registry verdict out (tenant active, device known and not revoked, token
// valid, site right, under the device limit and the rate limit), and on
// success into the writer's queue. Rejections go to the quarantine.

import type { Clock } from "../lib/clock.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Envelope, Reason } from "./parse.ts";
import type { Quarantine } from "./quarantine.ts";
import { matchToken, type Registry } from "./registry.ts";
import type { Accepted, Writer } from "./writer.ts";

/** How the sender proved who it is. */
export type Credential =
  /** An MQTT connection authenticated as this device (its token checked at CONNECT). */
  | { kind: "connection"; tenantId: string; deviceId: string; tokenId: string }
  /** A token presented with the message (envelope field, HTTP header). */
  | { kind: "token"; token: string | undefined };

export type Verdict = { ok: true; tokenId?: string } | { ok: false; reason: Reason; detail: string };

export interface Gate {
  /** Check a parsed message against the registry. */
  check(env: Envelope, cred: Credential): Promise<Verdict>;
  /**
   * Check and queue; the verdict says whether it was accepted. `queued` false
   * means the queue was full (or, with `wait`, that the writer stopped): with
   * `wait` the message waits for room instead, after being checked once.
   */
  admit(env: Envelope, cred: Credential, meta: { transport: "mqtt" | "http"; topic?: string; payload?: Uint8Array | string; done?: Accepted["done"]; wait?: boolean }): Promise<Verdict & { queued?: boolean }>;
  /**
   * Queue messages already checked (an HTTP batch), all or none: false, with
   * nothing queued, when they do not all fit.
   */
  queueChecked(messages: readonly Accepted[]): boolean;
  reject(r: Parameters<Quarantine["reject"]>[0]): void;
}

export interface GateDeps {
  registry: Registry;
  writer: Writer;
  quarantine: Quarantine;
  clock: Clock;
  metrics: Metrics;
  /** Per-device token bucket: sustained messages a second (0 = no limit) and burst. */
  ratePerSecond: number;
  rateBurst: number;
  /**
   * Hands each admitted message to the alert rules (it must not throw): once
   * it is queued, or, for a sender that waits for room, as soon as it starts
   * waiting — it will be written (or, at shutdown, failed and sent again), and
   * its alert need not wait behind a full queue.
   */
  judge?: (m: Accepted) => void;
}

export function createGate(deps: GateDeps): Gate {
  const received = deps.metrics.counter("pulse_ingest_received_total", "Messages received, by transport.");
  const buckets = new Map<string, { tokens: number; at: number }>();

  // Token bucket per device; buckets of quiet devices are forgotten now and then.
  const allow = (key: string, nowMs: number): boolean => {
    if (deps.ratePerSecond <= 0) return true;
    let b = buckets.get(key);
    if (!b) {
      if (buckets.size > 200_000) buckets.clear();
      b = { tokens: deps.rateBurst, at: nowMs };
      buckets.set(key, b);
    }
    b.tokens = Math.min(deps.rateBurst, b.tokens + ((nowMs - b.at) / 1000) * deps.ratePerSecond);
    b.at = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const check = async (env: Envelope, cred: Credential): Promise<Verdict> => {
    const nowMs = deps.clock.now().getTime();
    if (cred.kind === "connection" && (cred.tenantId !== env.tenantId || cred.deviceId !== env.deviceId)) {
      return { ok: false, reason: "INVALID_TOPIC", detail: `this connection is ${cred.tenantId}/${cred.deviceId}; it may publish only for that device` };
    }
    const auth = await deps.registry.get(env.tenantId, env.deviceId);
    if (!auth) return { ok: false, reason: "UNREGISTERED_DEVICE", detail: `no tenant ${env.tenantId}` };
    if (auth.tenantStatus !== "ACTIVE") return { ok: false, reason: "SUBSCRIPTION_SUSPENDED", detail: `tenant ${env.tenantId} is ${auth.tenantStatus.toLowerCase()}` };
    const device = auth.device;
    if (!device) return { ok: false, reason: "UNREGISTERED_DEVICE", detail: `no device ${env.deviceId} in tenant ${env.tenantId}` };
    if (device.status === "REVOKED") return { ok: false, reason: "DEVICE_REVOKED", detail: "the device is decommissioned" };
    let tokenId: string | undefined;
    if (cred.kind === "connection") {
      // The connection's token may have been revoked or expired since CONNECT.
      if (!device.tokens.some((t) => t.id === cred.tokenId && (t.expiresAt === null || t.expiresAt > nowMs))) return { ok: false, reason: "TOKEN_INVALID", detail: "the connection's token is no longer valid" };
      tokenId = cred.tokenId;
    } else {
      if (!cred.token) return { ok: false, reason: "TOKEN_MISSING", detail: "no provision token" };
      tokenId = matchToken(auth, cred.token, nowMs);
      if (!tokenId) return { ok: false, reason: "TOKEN_INVALID", detail: "the provision token is not valid for this device" };
    }
    if (device.status === "PENDING") return { ok: false, reason: "TOKEN_INVALID", detail: "the device is not activated yet" };
    if (env.siteId !== undefined && env.siteId !== device.siteId) return { ok: false, reason: "SITE_MISMATCH", detail: `site_id ${env.siteId}; the device belongs to ${device.siteId}` };
    if (device.overLimit) return { ok: false, reason: "DEVICE_LIMIT", detail: "the tenant has more devices than its plan allows" };
    if (!allow(`${env.tenantId}/${env.deviceId}`, nowMs)) return { ok: false, reason: "RATE_LIMITED", detail: `more than ${deps.ratePerSecond} messages a second` };
    return { ok: true, tokenId };
  };

  return {
    check,
    async admit(env, cred, meta) {
      received.inc({ transport: meta.transport });
      const verdict = await check(env, cred);
      if (!verdict.ok) {
        deps.quarantine.reject({ tenantId: env.tenantId, deviceId: env.deviceId, reason: verdict.reason, detail: verdict.detail, transport: meta.transport, topic: meta.topic, payload: meta.payload, time: deps.clock.now() });
        return verdict;
      }
      const m = { env, transport: meta.transport, receivedAt: deps.clock.now(), tokenId: verdict.tokenId, done: meta.done };
      let queued = deps.writer.enqueue(m);
      if (queued || meta.wait) deps.judge?.(m);
      if (!queued && meta.wait) queued = await deps.writer.enqueueWhenRoom(m);
      return { ...verdict, queued };
    },
    queueChecked(messages) {
      if (messages.length > deps.writer.room()) return false;
      for (const m of messages) {
        if (!deps.writer.enqueue(m)) throw new Error("ingest: the queue refused a message it had room for");
        deps.judge?.(m);
      }
      return true;
    },
    reject: (r) => {
      received.inc({ transport: r.transport });
      deps.quarantine.reject(r);
    },
  };
}
