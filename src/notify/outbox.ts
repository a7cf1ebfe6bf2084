// The outbox worker: claims due notifications (FOR UPDATE SKIP LOCKED, with a
// lease, on any node), sends them through their channel, and records each
// attempt. Success is a 2xx (or SMTP 250, or a trap sent); retries back off
// exponentially with jitter and honour Retry-After until the retry horizon;
// permanent failures go to the dead letters at once; a channel that keeps
// failing has its circuit opened for a while; 410 Gone disables it and tells
// the tenant's admins (audit log). At least once, with a stable idempotency key.

import { recordAudit } from "../audit/service.ts";
import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { SecretBox } from "../lib/secrets.ts";
import { DeliveryError, type NotificationEvent, type SendContext } from "./channel.ts";
import { CHANNEL_TYPES } from "./channels/index.ts";
import { OUTBOX_CHANNEL } from "./enqueue.ts";
import { personalDestination } from "./personal.ts";
import { claimDue, recordChannelOutcome, saveResults, updateChannel, type AttemptResult, type ChannelRow, type OutboxRow } from "./store.ts";

export interface OutboxWorkerDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  secrets: SecretBox;
  send: Omit<SendContext, "cache">;
  batch: number;
  leaseSeconds: number;
  /** Open a channel's circuit after this many failures in a row. */
  breakAfter: number;
  pollMs: number;
}

export interface OutboxWorker {
  /** Deliver everything due now (tests; also what the loop does). */
  drain(): Promise<number>;
  stop(): Promise<void>;
}

const BASE_DELAY_S = 5;
/** Rounds whose results are still being saved while the next one delivers. */
const MAX_SAVING = 2;
const MAX_DELAY_S = 3600;

/** Exponential backoff with full jitter, floored by Retry-After. */
export function retryDelaySeconds(attempts: number, retryAfter?: number): number {
  const cap = Math.min(MAX_DELAY_S, BASE_DELAY_S * 2 ** Math.max(0, attempts - 1));
  const jittered = cap / 2 + Math.random() * (cap / 2);
  return Math.max(retryAfter ?? 0, jittered);
}

export async function startOutboxWorker(deps: OutboxWorkerDeps): Promise<OutboxWorker> {
  const { db, log } = deps;
  const delivered = deps.metrics.counter("pulse_notify_deliveries_total", "Notification attempts by channel type and result.");
  const latency = deps.metrics.histogram("pulse_notify_delivery_seconds", "Time to deliver a notification.");
  const cache = new Map<string, unknown>();
  const ctx: SendContext = { ...deps.send, cache };
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;

  const deliver = async (row: OutboxRow, channel: ChannelRow | undefined): Promise<AttemptResult> => {
    const started = performance.now();
    const at = deps.clock.now();
    const base = { id: row.id, tenantId: row.tenant_id, channelId: row.channel_id, at };
    // A page to one person (escalation) goes through the channel type of its contact's kind (see personal.ts).
    if (row.recipient) return deliverPersonal(row, base, started);
    const type = channel ? CHANNEL_TYPES[channel.type] : undefined;
    if (!channel || !type) return { ...base, ok: false, statusCode: null, latencyMs: 0, response: null, error: "the channel no longer exists", status: "dead", nextAttemptAt: null };
    if (!channel.enabled) return { ...base, ok: false, statusCode: null, latencyMs: 0, response: null, error: `the channel is disabled${channel.disabled_reason ? `: ${channel.disabled_reason}` : ""}`, status: "dead", nextAttemptAt: null };
    try {
      const secrets = channel.secrets ? JSON.parse(await deps.secrets.decrypt(channel.secrets)) : {};
      const r = await type.send(row.payload as unknown as NotificationEvent, channel.config, secrets, ctx);
      const ms = Math.round(performance.now() - started);
      latency.observe(ms / 1000);
      delivered.inc({ type: channel.type, result: "ok" });
      return { ...base, ok: true, statusCode: r.statusCode ?? null, latencyMs: ms, response: r.response?.slice(0, 500) ?? null, error: null, status: "delivered", nextAttemptAt: null };
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message ?? String(err), { permanent: false, cause: err });
      const next = new Date(at.getTime() + retryDelaySeconds(row.attempts, e.retryAfterSeconds) * 1000);
      const dead = e.permanent || next > row.give_up_at;
      delivered.inc({ type: channel.type, result: dead ? "dead" : "retry" });
      if (e.gone) await disableGone(channel, e.message);
      return { ...base, ok: false, statusCode: e.statusCode ?? null, latencyMs: ms, response: e.response?.slice(0, 500) ?? null, error: e.message.slice(0, 500), status: dead ? "dead" : "pending", nextAttemptAt: dead ? null : next };
    }
  };

  const deliverPersonal = async (row: OutboxRow, base: Pick<AttemptResult, "id" | "tenantId" | "channelId" | "at">, started: number): Promise<AttemptResult> => {
    const kind = row.recipient!.kind;
    try {
      const d = await personalDestination(row.recipient!, row.recipient_secrets, deps.secrets);
      const r = await d.type.send(row.payload as unknown as NotificationEvent, d.config, d.secrets, ctx);
      const ms = Math.round(performance.now() - started);
      latency.observe(ms / 1000);
      delivered.inc({ type: kind, result: "ok" });
      return { ...base, ok: true, statusCode: r.statusCode ?? null, latencyMs: ms, response: r.response?.slice(0, 500) ?? null, error: null, status: "delivered", nextAttemptAt: null };
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message ?? String(err), { permanent: false, cause: err });
      const next = new Date(base.at.getTime() + retryDelaySeconds(row.attempts, e.retryAfterSeconds) * 1000);
      const dead = e.permanent || next > row.give_up_at;
      delivered.inc({ type: kind, result: dead ? "dead" : "retry" });
      return { ...base, ok: false, statusCode: e.statusCode ?? null, latencyMs: ms, response: e.response?.slice(0, 500) ?? null, error: e.message.slice(0, 500), status: dead ? "dead" : "pending", nextAttemptAt: dead ? null : next };
    }
  };

  const disableGone = async (channel: ChannelRow, why: string) => {
    await withSystem(db, (tx) => updateChannel(tx, channel.id, { enabled: false, disabled_reason: `the receiver answered 410 Gone (${why}); re-enable it once fixed` }, deps.clock.now()));
    await recordAudit({ db, clock: deps.clock }, { tenantId: channel.tenant_id, actor: { kind: "system", id: "system", name: "notifications" }, action: "notify.channel_disabled", target: { kind: "notification_channel", id: channel.id }, details: { name: channel.name, reason: "410 Gone" } });
    log.warn("notify: channel disabled after 410 Gone", { channel: channel.id, tenant: channel.tenant_id });
  };

  /**
   * Claim what is due and deliver it. The results are saved in the background
   * (`saved`): the next round claims meanwhile instead of waiting for that
   * transaction — a notification that arrives then goes out at once. Rows
   * delivered but not yet saved are leased, so no round takes them again.
   */
  const round = async (): Promise<{ n: number; saved: Promise<void> }> => {
    const now = deps.clock.now();
    const rows = await withSystem(db, (tx) => claimDue(tx, now, deps.batch, deps.leaseSeconds));
    if (!rows.length) return { n: 0, saved: Promise.resolve() };
    const results = await Promise.all(rows.map((r) => deliver(r, r.channel ?? undefined)));
    const saved = withSystem(db, async (tx) => {
      await saveResults(tx, results);
      const outcome = new Map<string, boolean>();
      for (const r of results) if (r.channelId && (r.status !== "dead" || r.statusCode !== null)) outcome.set(r.channelId, (outcome.get(r.channelId) ?? true) && r.ok);
      // In one order everywhere: saves of successive rounds may overlap, and must not deadlock on two channels.
      for (const [channelId, ok] of [...outcome].sort(([a], [b]) => (a < b ? -1 : 1))) await recordChannelOutcome(tx, channelId, ok, now, deps.breakAfter);
    }).catch((err) => log.error("notify: saving delivery results failed; those rows go out again when their lease ends", { rows: rows.length, error: err }));
    return { n: rows.length, saved };
  };

  const drain = async (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      const saving = new Set<Promise<void>>();
      try {
        for (;;) {
          again = false;
          const { n, saved } = await round();
          total += n;
          if (n) {
            saving.add(saved);
            void saved.then(() => saving.delete(saved));
            // At most two saves in flight: the pool is shared with ingest and the alert writes.
            if (saving.size >= MAX_SAVING) await Promise.race(saving);
          }
          if (n || again) continue;
          // Nothing due: once the saves in flight are done, delivered rows let
          // the next notification of their alert to that channel go (then one
          // more round); with none in flight, the outbox is drained.
          if (!saving.size) break;
          await Promise.all(saving);
        }
      } catch (err) {
        log.error("notify: outbox round failed", { error: err });
      } finally {
        // A round that failed leaves its saves to finish before drain answers.
        await Promise.all(saving);
      }
      return total;
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const unlisten = await db.listen(OUTBOX_CHANNEL, () => void drain());
  const tick = () => {
    if (stopped) return;
    void drain().finally(() => {
      if (!stopped) timer = setTimeout(tick, deps.pollMs);
    });
  };
  let timer: ReturnType<typeof setTimeout> = setTimeout(tick, deps.pollMs);

  return {
    drain,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await unlisten().catch(() => {});
      await running;
      for (const v of cache.values()) (v as { close?: () => void }).close?.();
    },
  };
}
