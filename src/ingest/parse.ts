// Parsing and validating device messages (shared/PROTOCOL.md, envelope v1).
// Pure: no I/O, no clock of its own; every rejection carries a reason code.
// Registry checks (token, revoked, site) happen later, in accept.ts.

export const REASONS = [
  "PAYLOAD_TOO_LARGE",
  "INVALID_JSON",
  "INVALID_TOPIC",
  "UNSUPPORTED_VERSION",
  "MISSING_METRICS",
  "INVALID_METRIC",
  "FUTURE_TIMESTAMP",
  "STALE_TIMESTAMP",
  "UNREGISTERED_DEVICE",
  "DEVICE_REVOKED",
  "SITE_MISMATCH",
  "TOKEN_MISSING",
  "TOKEN_INVALID",
  "RATE_LIMITED",
  "SUBSCRIPTION_SUSPENDED",
  "DEVICE_LIMIT",
] as const;
export type Reason = (typeof REASONS)[number];

export type MsgType = "telemetry" | "heartbeat";
export type MetricValue = number | boolean | string;

export interface Envelope {
  tenantId: string;
  deviceId: string;
  msgType: MsgType;
  /** When the device says it measured; receive time when absent. */
  time: Date;
  siteId?: string;
  seq?: number;
  metrics: Record<string, MetricValue>;
  lat?: number;
  lng?: number;
  provisionToken?: string;
}

export type Parsed = { ok: true; env: Envelope } | { ok: false; reason: Reason; detail: string; tenantId?: string; deviceId?: string };

export const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_STRING_VALUE = 64;
const MAX_METRICS = 256;
export const FUTURE_LIMIT_MS = 60_000;
export const STALE_LIMIT_MS = 30 * 86_400_000;

/** Where a message says it comes from: its topic or URL path (any of these may be absent). */
export interface Origin {
  tenantId?: string;
  deviceId?: string;
  msgType?: MsgType;
}

/** `tenant/{tenant}/device/{device}/{telemetry|heartbeat}` → its parts, or undefined. */
export function parseTopic(topic: string): Required<Origin> | undefined {
  const p = topic.split("/");
  if (p.length !== 5 || p[0] !== "tenant" || p[2] !== "device") return undefined;
  const [, tenantId, , deviceId, msgType] = p as [string, string, string, string, string];
  if (!SLUG.test(tenantId) || !SLUG.test(deviceId) || (msgType !== "telemetry" && msgType !== "heartbeat")) return undefined;
  return { tenantId, deviceId, msgType };
}

const fail = (reason: Reason, detail: string, o?: Origin): Parsed => ({ ok: false, reason, detail, tenantId: o?.tenantId, deviceId: o?.deviceId });

/**
 * Parse one message body. `origin` is what the topic or path says; fields in
 * the body must agree with it, and fill it in when it is silent (batch HTTP).
 */
export function parseMessage(body: Uint8Array | string, origin: Origin, opts: { now: Date; maxBytes: number }): Parsed {
  const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  if (size > opts.maxBytes) return fail("PAYLOAD_TOO_LARGE", `${size} bytes; at most ${opts.maxBytes}`, origin);
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
  } catch {
    return fail("INVALID_JSON", "body is not JSON", origin);
  }
  return parseEnvelope(doc, origin, opts.now);
}

const IDENTITY = [
  ["tenant_id", "tenantId"],
  ["device_id", "deviceId"],
  ["msg_type", "msgType"],
] as const;
const COORDINATES = [
  ["lat", 90],
  ["lng", 180],
] as const;

/** Validate an already-decoded envelope (the batch endpoint decodes the array once). */
export function parseEnvelope(doc: unknown, origin: Origin, now: Date): Parsed {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return fail("INVALID_JSON", "body must be a JSON object", origin);
  const m = doc as Record<string, unknown>;

  // Identity: the body may repeat the topic's parts, but never contradict them.
  const o: Origin = { ...origin };
  for (const [field, key] of IDENTITY) {
    const v = m[field];
    if (v === undefined) continue;
    if (typeof v !== "string") return fail("INVALID_TOPIC", `${field} must be a string`, o);
    if (o[key] !== undefined && o[key] !== v) return fail("INVALID_TOPIC", `${field} "${v}" does not match the topic's "${o[key]}"`, o);
    (o as Record<string, string>)[key] = v;
  }
  if (!o.tenantId || !SLUG.test(o.tenantId)) return fail("INVALID_TOPIC", "tenant_id missing or not a valid id", o);
  if (!o.deviceId || !SLUG.test(o.deviceId)) return fail("INVALID_TOPIC", "device_id missing or not a valid id", o);
  if (o.msgType !== "telemetry" && o.msgType !== "heartbeat") return fail("INVALID_TOPIC", "msg_type must be telemetry or heartbeat", o);

  if (m.version !== undefined && m.version !== "1" && m.version !== 1) return fail("UNSUPPORTED_VERSION", `version ${JSON.stringify(m.version)}; this server speaks 1`, o);

  let time = now;
  if (m.ts !== undefined && m.ts !== null) {
    const t = typeof m.ts === "number" && Number.isFinite(m.ts) ? m.ts * 1000 : typeof m.ts === "string" && /^\d{4}-\d\d-\d\dT/.test(m.ts) ? Date.parse(m.ts) : NaN;
    if (Number.isNaN(t)) return fail("INVALID_JSON", "ts must be unix seconds or an ISO-8601 time", o);
    if (t > now.getTime() + FUTURE_LIMIT_MS) return fail("FUTURE_TIMESTAMP", `ts is ${Math.round((t - now.getTime()) / 1000)} s in the future (at most 60 s)`, o);
    if (t < now.getTime() - STALE_LIMIT_MS) return fail("STALE_TIMESTAMP", `ts is ${Math.round((now.getTime() - t) / 86_400_000)} days old (at most 30)`, o);
    time = new Date(t);
  }

  // The decoded object itself once checked (a fresh one from JSON.parse, or the
  // batch's own element): a copy per message was garbage for the collector.
  let metrics: Record<string, MetricValue> = {};
  let n = 0;
  if (m.metrics !== undefined && m.metrics !== null) {
    if (typeof m.metrics !== "object" || Array.isArray(m.metrics)) return fail("INVALID_METRIC", "metrics must be an object of name: value", o);
    const given = m.metrics as Record<string, unknown>;
    // for-in, not Object.entries: no array of pairs per message (JSON.parse gives plain objects, nothing inherited).
    for (const name in given) {
      const value = given[name];
      if (++n > MAX_METRICS) return fail("INVALID_METRIC", `more than ${MAX_METRICS} metrics`, o);
      // "__proto__" matches the pattern but cannot be a key of a plain object (it would vanish).
      if (!METRIC_NAME.test(name) || name === "__proto__") return fail("INVALID_METRIC", `metric name "${name.slice(0, 80)}" is not allowed`, o);
      if (typeof value === "number") {
        if (!Number.isFinite(value)) return fail("INVALID_METRIC", `${name}: not a finite number`, o);
      } else if (typeof value === "string") {
        if (value.length > MAX_STRING_VALUE) return fail("INVALID_METRIC", `${name}: strings are at most ${MAX_STRING_VALUE} characters`, o);
        // Postgres cannot store NUL in text or jsonb.
        if (value.includes("\u0000")) return fail("INVALID_METRIC", `${name}: strings must not contain NUL characters`, o);
      } else if (typeof value !== "boolean") {
        return fail("INVALID_METRIC", `${name}: must be a number, boolean or short string`, o);
      }
    }
    if (n) metrics = given as Record<string, MetricValue>;
  }
  if (o.msgType === "telemetry" && n === 0) return fail("MISSING_METRICS", "telemetry needs at least one metric", o);

  const env: Envelope = { tenantId: o.tenantId, deviceId: o.deviceId, msgType: o.msgType, time, metrics };
  if (m.site_id !== undefined && m.site_id !== null) {
    if (typeof m.site_id !== "string" || !SLUG.test(m.site_id)) return fail("SITE_MISMATCH", "site_id is not a valid id", o);
    env.siteId = m.site_id;
  }
  if (m.seq !== undefined && m.seq !== null) {
    if (typeof m.seq !== "number" || !Number.isSafeInteger(m.seq) || m.seq < 0) return fail("INVALID_JSON", "seq must be a non-negative integer", o);
    env.seq = m.seq;
  }
  for (const [k, lim] of COORDINATES) {
    const v = m[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v) || Math.abs(v) > lim) return fail("INVALID_METRIC", `${k} must be a number from -${lim} to ${lim}`, o);
    env[k] = v;
  }
  if (m.provision_token !== undefined && m.provision_token !== null) {
    if (typeof m.provision_token !== "string" || m.provision_token.length > 200) return fail("TOKEN_INVALID", "provision_token must be a string", o);
    env.provisionToken = m.provision_token;
  }
  return { ok: true, env };
}
