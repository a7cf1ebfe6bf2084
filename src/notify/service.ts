// Notification channels and routes per tenant (tenant-admins), the delivery
// log and dead letters (replay), and "send test". Channel secrets are
// encrypted at rest and never returned after creation: the API shows which
// secret fields are set, not their values.

import { createHmac } from "node:crypto";
import { recordAuditIn } from "../audit/service.ts";
import { SEVERITIES, type Severity } from "../alerts/evaluate.ts";
import { notifyChange } from "../db/bus.ts";
import type { Db } from "../db/db.ts";
import { withSystem, withTenant } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { isTimeZone, requireText } from "../lib/validate.ts";
import type { SecretBox } from "../lib/secrets.ts";
import { checkScope } from "../alerts/rules.ts";
import { getSetting, initSetting } from "../system/store.ts";
import { DeliveryError, type NotificationEvent, type Preview, type SendContext } from "./channel.ts";
import { CHANNEL_TYPES } from "./channels/index.ts";
import { newWebhookSecret } from "./channels/webhook.ts";
import { messageId } from "./event.ts";
import { OUTBOX_CHANNEL } from "./enqueue.ts";
import { ROUTED_EVENTS } from "./routing.ts";
import { deleteChannel, deleteRoute, deliveryExists, findChannel, insertChannel, insertRoute, listAttempts, listChannels, listDeliveries, listRoutes, replayDelivery, updateChannel, updateRoute, type ChannelRow, type DeliveryFilter, type RouteFields } from "./store.ts";

export interface NotifyDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  publicUrl: () => string;
  retryHorizonSeconds: number;
  /** For "send test": the same context the outbox worker uses. */
  sendContext: SendContext;
}

/**
 * This installation's SNMP engine id (hex): derived once from the secret key
 * (so nodes starting together agree) and kept in the settings table, so it
 * survives a key change. SNMPv3 receivers are configured with it.
 */
export async function ensureSnmpEngineId(db: Db, secretKey: string): Promise<string> {
  // RFC 3411 format: enterprise number with the top bit set, format 5 (octets), 12 octets.
  const derived = "8000ea5f05" + createHmac("sha256", secretKey).update("pulse snmp engine id").digest("hex").slice(0, 24);
  return withSystem(db, async (tx) => {
    await initSetting(tx, "notify.snmp_engine_id", derived);
    return (await getSetting<string>(tx, "notify.snmp_engine_id")) ?? derived;
  });
}

export interface Channel {
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
  /** Which secret fields are set (values are never returned). */
  secretsSet: string[];
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  circuitOpenUntil: Date | null;
  createdAt: Date;
}

async function toChannel(deps: NotifyDeps, r: ChannelRow): Promise<Channel> {
  let set: string[] = [];
  const type = CHANNEL_TYPES[r.type];
  if (r.secrets && type) {
    try {
      const settings = type.settingsOf(r.config, JSON.parse(await deps.secrets.decrypt(r.secrets)));
      set = type.secretFields.filter((f) => settings[f] !== undefined && settings[f] !== null && settings[f] !== "");
    } catch {
      set = ["(unreadable: was security.secret_key changed?)"];
    }
  }
  // Facts the receiver needs (the SNMP engine id, trap OIDs) are shown with the settings.
  const config = type?.describe ? { ...r.config, ...type.describe(r.config, deps.sendContext) } : r.config;
  return { id: r.id, name: r.name, type: r.type, config, secretsSet: set, enabled: r.enabled, disabledReason: r.disabled_reason, consecutiveFailures: r.consecutive_failures, circuitOpenUntil: r.circuit_open_until, createdAt: r.created_at };
}

function channelType(type: unknown) {
  const t = typeof type === "string" ? CHANNEL_TYPES[type] : undefined;
  if (!t) throw invalid("type", `type: one of ${Object.keys(CHANNEL_TYPES).join(", ")}`);
  return t;
}

export async function listNotificationChannels(deps: NotifyDeps, ctx: Ctx): Promise<Channel[]> {
  requirePermission(ctx, "read", "see notification channels");
  const rows = await withTenant(deps.db, ctx, (tx) => listChannels(tx));
  return Promise.all(rows.map((r) => toChannel(deps, r)));
}

export async function getNotificationChannel(deps: NotifyDeps, ctx: Ctx, id: string): Promise<Channel> {
  requirePermission(ctx, "read", "see notification channels");
  const row = await withTenant(deps.db, ctx, (tx) => findChannel(tx, id));
  if (!row) throw notFound(`notification channel ${id}`);
  return toChannel(deps, row);
}

/**
 * Create a channel from its settings (secrets included); they are validated by
 * the channel type. A webhook given no signing secret gets a fresh one, returned
 * as generatedSecret: the only time anyone sees it, so the receiver can be set up.
 */
export async function createNotificationChannel(
  deps: NotifyDeps,
  ctx: Ctx,
  input: { name: unknown; type: unknown; settings: Record<string, unknown>; enabled?: unknown },
): Promise<Channel & { generatedSecret?: string }> {
  requirePermission(ctx, "admin", "add notification channels");
  const type = channelType(input.type);
  const name = requireText("name", input.name);
  const settings = { ...(input.settings ?? {}) };
  let generatedSecret: string | undefined;
  if (type.type === "webhook" && (settings.secret === undefined || settings.secret === null || settings.secret === "")) settings.secret = generatedSecret = newWebhookSecret();
  const { config, secrets } = type.validate(settings);
  const sealed = await deps.secrets.encrypt(JSON.stringify(secrets));
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const r = await insertChannel(tx, { tenantId: ctx.tenantId, name, type: type.type, config, secrets: sealed, enabled: input.enabled !== false, now: deps.clock.now() });
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.channel_created", target: { kind: "notification_channel", id: r.id }, ip: ctx.ip, requestId: ctx.requestId, details: { name, type: type.type } });
    return r;
  });
  const channel = await toChannel(deps, row);
  return generatedSecret ? { ...channel, generatedSecret } : channel;
}

/**
 * Change a channel. Settings are validated whole; a secret field left out
 * keeps its stored value, so the UI can edit a channel without seeing its secrets.
 */
export async function updateNotificationChannel(deps: NotifyDeps, ctx: Ctx, id: string, input: { name?: unknown; settings?: Record<string, unknown>; enabled?: unknown }): Promise<Channel> {
  requirePermission(ctx, "admin", "change notification channels");
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const current = await findChannel(tx, id);
    if (!current) throw notFound(`notification channel ${id}`);
    const patch: Parameters<typeof updateChannel>[2] = {};
    if (input.name !== undefined) patch.name = requireText("name", input.name);
    if (input.enabled !== undefined) {
      patch.enabled = input.enabled === true;
      if (patch.enabled) Object.assign(patch, { disabled_reason: null, consecutive_failures: 0, circuit_open_until: null });
    }
    if (input.settings) {
      const type = channelType(current.type);
      const old = current.secrets ? JSON.parse(await deps.secrets.decrypt(current.secrets)) : {};
      // Fields not given keep their stored values (secrets included, which the UI never sees).
      const given = Object.fromEntries(Object.entries(input.settings).filter(([, v]) => v !== undefined));
      const { config, secrets } = type.validate({ ...type.settingsOf(current.config, old), ...given });
      patch.config = config;
      patch.secrets = await deps.secrets.encrypt(JSON.stringify(secrets));
    }
    const r = (await updateChannel(tx, id, patch, deps.clock.now()))!;
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.channel_updated", target: { kind: "notification_channel", id }, ip: ctx.ip, requestId: ctx.requestId, details: { fields: Object.keys(input.settings ?? {}).filter((k) => !CHANNEL_TYPES[current.type]?.secretFields.includes(k)) } });
    return r;
  });
  return toChannel(deps, row);
}

/**
 * Webhook: sign with a new secret from now on, and keep signing with the
 * current one too (as previous_secret) until it is removed, so receivers can
 * switch over without missing a notification. Returns the new secret, which is shown once.
 */
export async function rotateWebhookSecret(deps: NotifyDeps, ctx: Ctx, id: string): Promise<{ channel: Channel; secret: string }> {
  requirePermission(ctx, "admin", "rotate webhook secrets");
  const secret = newWebhookSecret();
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const current = await findChannel(tx, id);
    if (!current || current.type !== "webhook") throw notFound(`webhook channel ${id}`);
    const type = channelType(current.type);
    const old = current.secrets ? JSON.parse(await deps.secrets.decrypt(current.secrets)) : {};
    const settings = type.settingsOf(current.config, old);
    const { config, secrets } = type.validate({ ...settings, secret, previous_secret: settings.secret });
    const r = (await updateChannel(tx, id, { config, secrets: await deps.secrets.encrypt(JSON.stringify(secrets)) }, deps.clock.now()))!;
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.channel_secret_rotated", target: { kind: "notification_channel", id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: current.name } });
    return r;
  });
  return { channel: await toChannel(deps, row), secret };
}

export async function deleteNotificationChannel(deps: NotifyDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "remove notification channels");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await deleteChannel(tx, id))) throw notFound(`notification channel ${id}`);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.channel_deleted", target: { kind: "notification_channel", id }, ip: ctx.ip, requestId: ctx.requestId });
  });
}

/** A sample alert for previews and test sends. */
export function sampleEvent(deps: Pick<NotifyDeps, "publicUrl" | "clock">, ctx: Ctx, type: NotificationEvent["type"] = "test"): NotificationEvent {
  const now = deps.clock.now();
  return {
    id: messageId(["test", ctx.tenantId, now.toISOString()]),
    type,
    timestamp: now.toISOString(),
    tenant: { id: ctx.tenantId, name: ctx.tenantId },
    alert: {
      id: "00000000-0000-4000-8000-000000000000",
      fingerprint: "TEST:pulse",
      type: "TEST",
      severity: "INFO",
      severity_level: 5,
      status: "OPEN",
      summary: "Test notification from Pulse: if you can read this, the channel works",
      device_id: "test-device",
      site_id: null,
      metric_name: "temp_c",
      value: 21.5,
      trigger_count: 1,
      opened_at: now.toISOString(),
      acknowledged_by: null,
      closed_at: null,
      url: `${deps.publicUrl()}/notifications`,
    },
  };
}

export async function previewChannel(deps: NotifyDeps, ctx: Ctx, id: string): Promise<Preview> {
  requirePermission(ctx, "read", "see notification channels");
  const channel = await withTenant(deps.db, ctx, (tx) => findChannel(tx, id));
  if (!channel) throw notFound(`notification channel ${id}`);
  return channelType(channel.type).preview(sampleEvent(deps, ctx, "alert.triggered"), channel.config, deps.sendContext);
}

/** Send a test notification now and report the receiver's answer (not queued, not retried). */
export async function testChannel(deps: NotifyDeps, ctx: Ctx, id: string): Promise<{ ok: boolean; statusCode: number | null; response: string | null; error: string | null; latencyMs: number }> {
  requirePermission(ctx, "admin", "test notification channels");
  const channel = await withTenant(deps.db, ctx, (tx) => findChannel(tx, id));
  if (!channel) throw notFound(`notification channel ${id}`);
  const type = channelType(channel.type);
  const started = performance.now();
  try {
    const secrets = channel.secrets ? JSON.parse(await deps.secrets.decrypt(channel.secrets)) : {};
    const r = await type.send(sampleEvent(deps, ctx), channel.config, secrets, deps.sendContext);
    return { ok: true, statusCode: r.statusCode ?? null, response: r.response ?? null, error: null, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    const e = err instanceof DeliveryError ? err : undefined;
    return { ok: false, statusCode: e?.statusCode ?? null, response: e?.response ?? null, error: (err as Error).message, latencyMs: Math.round(performance.now() - started) };
  }
}

// Routes

export function checkRoute(input: Record<string, unknown>): RouteFields {
  const channel = input.channel_id;
  if (typeof channel !== "string" || !/^[0-9a-f-]{36}$/i.test(channel)) throw invalid("channel_id", "channel_id: a channel id");
  const minSeverity = input.min_severity ?? "INFO";
  if (!SEVERITIES.includes(minSeverity as Severity)) throw invalid("min_severity", `min_severity: one of ${SEVERITIES.join(", ")}`);
  const types = input.alert_types ?? [];
  if (!Array.isArray(types) || types.some((t) => t !== "THRESHOLD" && t !== "NO_HEARTBEAT")) throw invalid("alert_types", "alert_types: THRESHOLD and/or NO_HEARTBEAT (empty: all)");
  const transitions = input.transitions ?? ["triggered", "resolved"];
  if (!Array.isArray(transitions) || transitions.length === 0 || transitions.some((t) => !ROUTED_EVENTS.includes(t))) throw invalid("transitions", `transitions: some of ${ROUTED_EVENTS.join(", ")}`);
  const throttle = input.throttle_seconds ?? 0;
  if (typeof throttle !== "number" || !Number.isInteger(throttle) || throttle < 0 || throttle > 7 * 86400) throw invalid("throttle_seconds", "throttle_seconds: whole seconds from 0 to 604800");
  let hours: RouteFields["active_hours"] = null;
  if (input.active_hours) {
    const h = input.active_hours as Record<string, unknown>;
    const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
    if (typeof h.start !== "string" || !hhmm.test(h.start)) throw invalid("active_hours.start", "active_hours.start: HH:MM");
    if (typeof h.end !== "string" || !hhmm.test(h.end)) throw invalid("active_hours.end", "active_hours.end: HH:MM");
    if (typeof h.timezone !== "string" || !isTimeZone(h.timezone)) throw invalid("active_hours.timezone", "active_hours.timezone: an IANA time zone");
    if (h.days !== undefined && (!Array.isArray(h.days) || h.days.some((d) => !["MO", "TU", "WE", "TH", "FR", "SA", "SU"].includes(d)))) throw invalid("active_hours.days", "active_hours.days: weekdays like MO, TU");
    hours = { start: h.start, end: h.end, timezone: h.timezone, ...(h.days ? { days: h.days as string[] } : {}) };
  }
  const scope = checkScope(input.scope);
  if (scope.devices) throw invalid("scope.devices", "scope.devices: routes filter by sites and tags");
  return {
    channel_id: channel,
    name: requireText("name", input.name),
    min_severity: minSeverity as Severity,
    alert_types: [...new Set(types as string[])],
    scope,
    transitions: [...new Set(transitions as string[])],
    throttle_seconds: throttle,
    active_hours: hours,
    enabled: input.enabled !== false,
  };
}

export async function listNotificationRoutes(deps: Pick<NotifyDeps, "db">, ctx: Ctx) {
  requirePermission(ctx, "read", "see routing rules");
  return withTenant(deps.db, ctx, (tx) => listRoutes(tx));
}

export async function saveNotificationRoute(deps: NotifyDeps, ctx: Ctx, id: string | undefined, input: Record<string, unknown>) {
  requirePermission(ctx, "admin", "change routing rules");
  const fields = checkRoute(input);
  return withTenant(deps.db, ctx, async (tx) => {
    if (!(await findChannel(tx, fields.channel_id))) throw invalid("channel_id", "channel_id: no such channel");
    const r = id ? await updateRoute(tx, id, fields, deps.clock.now()) : await insertRoute(tx, ctx.tenantId, fields, deps.clock.now());
    if (!r) throw notFound(`routing rule ${id}`);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: id ? "notify.route_updated" : "notify.route_created", target: { kind: "notification_route", id: r.id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: r.name } });
    return r;
  });
}

export async function deleteNotificationRoute(deps: NotifyDeps, ctx: Ctx, id: string): Promise<void> {
  requirePermission(ctx, "admin", "remove routing rules");
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await deleteRoute(tx, id))) throw notFound(`routing rule ${id}`);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.route_deleted", target: { kind: "notification_route", id }, ip: ctx.ip, requestId: ctx.requestId });
  });
}

// Deliveries

export async function listNotificationDeliveries(deps: Pick<NotifyDeps, "db">, ctx: Ctx, f: DeliveryFilter) {
  requirePermission(ctx, "read", "see deliveries");
  return withTenant(deps.db, ctx, (tx) => listDeliveries(tx, f));
}

export async function deliveryAttempts(deps: Pick<NotifyDeps, "db">, ctx: Ctx, id: number) {
  requirePermission(ctx, "read", "see deliveries");
  return withTenant(deps.db, ctx, async (tx) => {
    if (!(await deliveryExists(tx, id))) throw notFound(`delivery ${id}`);
    return listAttempts(tx, id);
  });
}

/** Send a dead letter again, with the same idempotency key. */
export async function replayNotification(deps: NotifyDeps, ctx: Ctx, id: number): Promise<void> {
  requirePermission(ctx, "admin", "replay deliveries");
  const now = deps.clock.now();
  await withTenant(deps.db, ctx, async (tx) => {
    if (!(await replayDelivery(tx, id, now, new Date(now.getTime() + deps.retryHorizonSeconds * 1000)))) throw notFound(`dead delivery ${id}`);
    await notifyChange(tx, OUTBOX_CHANNEL, "");
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "notify.replayed", target: { kind: "delivery", id: String(id) }, ip: ctx.ip, requestId: ctx.requestId });
  });
}
