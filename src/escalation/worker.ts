// The escalation worker (a leader-only job, every few seconds): claims
// alerts whose next level is due with FOR UPDATE SKIP LOCKED, one per
// transaction, and in that transaction writes the level's notifications to
// the outbox, records each step in the alert's timeline, and moves the alert
// on (escalation_level, next_escalation_at). A crash before the commit
// leaves the level due and nothing queued; after it, the level is done and
// queued: a level is never skipped or paged twice. Schedules resolve to whoever
// is on call at that moment. A silenced alert waits; acknowledging or closing
// it has already cleared next_escalation_at, so it is never claimed.

import type { AlertRow } from "../alerts/store.ts";
import { notifyChange } from "../db/bus.ts";
import type { Db, Sql } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { OUTBOX_CHANNEL } from "../notify/enqueue.ts";
import { buildEvent, messageId } from "../notify/event.ts";
import { insertOutbox } from "../notify/store.ts";
import { claimDueAlert, findPolicy, insertEscalationEvent, postponeEscalation, ruleName, setEscalation, tenantName } from "./store.ts";
import { describeOutcome, resolveLevel } from "./targets.ts";

export interface EscalationWorkerDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  publicUrl: () => string;
  /** How long a page is retried before it becomes a dead letter. */
  retryHorizonSeconds: number;
  /** Test seam: runs inside the step's transaction after the outbox rows are written (to crash there). */
  afterWrite?: (alertId: string, level: number) => Promise<void>;
}

type EscalatingAlert = AlertRow & { escalation_policy_id: string | null; escalation_repeats: number };

export interface EscalationWorker {
  /** Run every due step (the job); returns how many steps were taken. */
  run(): Promise<number>;
}

/** At most this many steps per run, so one run never holds the leader's job for long. */
const MAX_STEPS = 500;

export function createEscalationWorker(deps: EscalationWorkerDeps): EscalationWorker {
  const steps = deps.metrics?.counter("pulse_escalation_steps_total", "Escalation levels fired, by outcome.");

  const step = async (tx: Sql, a: EscalatingAlert, now: Date): Promise<void> => {
    const event = (kind: string, details: Record<string, unknown>) => insertEscalationEvent(tx, { tenantId: a.tenant_id, alertId: a.id, time: now, kind, details });
    const policy = a.escalation_policy_id ? await findPolicy(tx, a.tenant_id, a.escalation_policy_id) : undefined;
    if (!policy?.levels.length) {
      await setEscalation(tx, a.id, { escalation_policy_id: a.escalation_policy_id, escalation_level: a.escalation_level, escalation_repeats: a.escalation_repeats, next_escalation_at: null });
      await event("ESCALATION_STOPPED", { message: "escalation stopped: its policy no longer exists" });
      steps?.inc({ outcome: "stopped" });
      return;
    }
    if (a.silenced_until && a.silenced_until > now) {
      await postponeEscalation(tx, a.id, a.silenced_until);
      await event("ESCALATION_POSTPONED", { until: a.silenced_until.toISOString(), message: `escalation waits while the alert is silenced (until ${a.silenced_until.toISOString()})` });
      steps?.inc({ outcome: "postponed" });
      return;
    }
    // The level after the last one fired; past the end, the next run of the policy (a repeat) starts at level 1.
    let level = a.escalation_level + 1;
    let pass = a.escalation_repeats;
    if (level > policy.levels.length) {
      level = 1;
      pass += 1;
    }
    if (pass > policy.repeat_count) {
      // The policy was changed under this alert (fewer levels or repeats): nothing is left to page.
      await setEscalation(tx, a.id, { escalation_policy_id: policy.id, escalation_level: a.escalation_level, escalation_repeats: a.escalation_repeats, next_escalation_at: null });
      await event("ESCALATION_STOPPED", { message: `escalation stopped: policy ${policy.name} has no level ${a.escalation_level + 1} any more` });
      steps?.inc({ outcome: "stopped" });
      return;
    }
    const def = policy.levels[level - 1]!;
    const due = a.next_escalation_at!;
    const nextLevel = policy.levels[level];
    const next = nextLevel ? new Date(now.getTime() + nextLevel.delay_minutes * 60_000) : pass < policy.repeat_count ? new Date(now.getTime() + policy.repeat_delay_minutes * 60_000) : null;
    const updated = await setEscalation(tx, a.id, { escalation_policy_id: policy.id, escalation_level: level, escalation_repeats: pass, next_escalation_at: next });

    const outcomes = await resolveLevel(tx, { tenantId: a.tenant_id, severity: a.severity }, def.targets, now);
    const tenant = await tenantName(tx, a.tenant_id);
    const rule = await ruleName(tx, a.rule_id);
    let queued = 0;
    for (const o of outcomes) {
      const target = o.onCallFor ? `${o.who} (on call for ${o.onCallFor})` : o.who;
      for (const p of o.pages) {
        // Stable for this step and destination: a retried delivery keeps it, a later step gets a new one.
        const id = messageId([a.id, "escalated", String(pass), String(level), due.toISOString(), p.key]);
        await insertOutbox(tx, {
          tenantId: a.tenant_id,
          channelId: "channelId" in p.destination ? p.destination.channelId : null,
          recipient: "recipient" in p.destination ? { to: p.destination.recipient, sealed: p.destination.sealed } : undefined,
          alertId: a.id,
          event: "alert.escalated",
          key: id,
          payload: buildEvent({ id, type: "alert.escalated", at: now, tenantName: tenant, alert: updated, ruleName: rule, publicUrl: deps.publicUrl(), escalation: { level, target } }),
          now,
          giveUpAt: new Date(now.getTime() + deps.retryHorizonSeconds * 1000),
        });
        queued++;
      }
      await event(o.pages.length ? "ESCALATED" : "ESCALATION_SKIPPED", {
        level,
        ...(policy.repeat_count ? { pass: pass + 1 } : {}),
        policy: policy.name,
        target: o.target,
        user_id: o.userId,
        on_call_for: o.onCallFor,
        via: o.pages.map((p) => ("recipient" in p.destination ? { kind: p.destination.recipient.kind, address: p.destination.recipient.address } : { channel_id: p.destination.channelId })),
        message: describeOutcome(level, o),
      });
    }
    if (deps.afterWrite) await deps.afterWrite(a.id, level);
    if (next === null) await event("ESCALATION_EXHAUSTED", { level, policy: policy.name, message: `level ${level} was the last${policy.repeat_count ? ` (after ${policy.repeat_count} repeats)` : ""}; nobody acknowledged` });
    if (queued) await notifyChange(tx, OUTBOX_CHANNEL, "");
    steps?.inc({ outcome: "paged" });
  };

  return {
    async run() {
      let n = 0;
      while (n < MAX_STEPS) {
        const now = deps.clock.now();
        let claimed: EscalatingAlert | undefined;
        try {
          const stepped = await withSystem(deps.db, async (tx) => {
            claimed = (await claimDueAlert(tx, now)) as EscalatingAlert | undefined;
            if (!claimed) return false;
            await step(tx, claimed, now);
            return true;
          });
          if (!stepped) break;
        } catch (err) {
          if (!claimed) throw err;
          // One alert that cannot be stepped must not hold up the others: it is tried again in a minute.
          deps.log.error("escalation: step failed; retrying in a minute", { alert: claimed.id, error: err });
          const id = claimed.id;
          await withSystem(deps.db, (tx) => postponeEscalation(tx, id, new Date(now.getTime() + 60_000)));
        }
        n++;
      }
      if (n === MAX_STEPS) deps.log.warn("escalation: more steps due than one run takes; the rest go next run", { steps: n });
      return n;
    },
  };
}
