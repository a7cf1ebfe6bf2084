// Alert lifecycle inside a transaction: raise (open, re-trigger, or re-open
// within the rule's window), resolve (auto-close or mark cleared),
// acknowledge, close, silence. Each change is an alert event forming the
// alert's timeline, and comes back as a Transition for the event bus. An
// alert and its event are written in one statement: these run inside the
// engine's transactions, where every round trip is paid under load.

import type { Sql } from "../db/db.ts";
import type { AlertSubject } from "./bus.ts";
import type { Actor } from "../lib/ctx.ts";
import { findOpenAlert, lastConditionEvent, raiseAlert, updateAlert, updateOpenAlert, type AlertRow, type NewAlert } from "./store.ts";

export type TransitionKind = "triggered" | "retriggered" | "reopened" | "acknowledged" | "resolved" | "cleared" | "closed" | "silenced" | "unsilenced";

export interface Transition {
  kind: TransitionKind;
  alert: AlertRow;
  actor: Pick<Actor, "kind" | "name">;
  at: Date;
}

/**
 * One alert change to make in a transaction (the engine's unit of work);
 * changes to one fingerprint are made in order. Plain data, so that it can be
 * handed to the alert writer thread (see write-thread.ts).
 */
export type AlertAction = { fingerprint: string; /** What it is about: the hooks' reads for it start with the transaction. */ subject: AlertSubject } & (
  | { raise: NewAlert & { reopenWindowSeconds: number } }
  | { resolve: Resolution }
);

/** Make the change an action describes. */
export function runAction(tx: Sql, a: AlertAction): Promise<Transition | undefined> {
  return "raise" in a ? raise(tx, a.raise) : resolve(tx, a.resolve);
}

/** A condition that cleared (see resolve). */
export interface Resolution {
  tenantId: string;
  fingerprint: string;
  value: unknown;
  autoClose: boolean;
  at: Date;
  reason: string;
}

const SYSTEM = { kind: "system", name: "system" } as const;

/** The condition is met: open an alert, count a repeat, or re-open a recently closed one. */
export async function raise(tx: Sql, a: NewAlert & { reopenWindowSeconds: number }): Promise<Transition> {
  const reopenSince = a.reopenWindowSeconds > 0 ? new Date(a.at.getTime() - a.reopenWindowSeconds * 1000) : null;
  const raised = await raiseAlert(tx, a, reopenSince);
  if (raised) return { kind: raised.kind, alert: raised.alert, actor: SYSTEM, at: a.at };
  // Another node opened it a moment ago: this occurrence is a repeat (the
  // statement, run again, now finds that alert open and counts it).
  const again = await raiseAlert(tx, a, null);
  if (!again) throw new Error(`alerts: cannot open or find the alert ${a.fingerprint}`);
  return { kind: again.kind, alert: again.alert, actor: SYSTEM, at: a.at };
}

/** The condition cleared: close the alert (auto-close) or note it for a human. */
export async function resolve(tx: Sql, r: Resolution): Promise<Transition | undefined> {
  if (r.autoClose) {
    // Found and closed in one statement.
    const alert = await updateOpenAlert(
      tx,
      r.tenantId,
      r.fingerprint,
      { status: "CLOSED", closed_at: r.at, closed_by: "system", close_reason: r.reason, last_value: r.value, next_escalation_at: null },
      { time: r.at, kind: "RESOLVED", value: r.value, details: { reason: r.reason } },
    );
    return alert && { kind: "resolved", alert, actor: SYSTEM, at: r.at };
  }
  const open = await findOpenAlert(tx, r.tenantId, r.fingerprint);
  if (!open) return undefined;
  // Said once per episode: the heartbeat check finds a recovered device on every sweep until a person closes it.
  if ((await lastConditionEvent(tx, open.id)) === "CLEARED") return undefined;
  const alert = await updateAlert(tx, open.id, { last_value: r.value }, { time: r.at, kind: "CLEARED", value: r.value, details: { reason: r.reason, note: "waiting for a person to close it" } });
  return { kind: "cleared", alert, actor: SYSTEM, at: r.at };
}

/** A person takes it: escalation stops. */
export async function acknowledge(tx: Sql, alert: AlertRow, actor: Actor, at: Date, note?: string): Promise<Transition | undefined> {
  if (alert.status !== "OPEN") return undefined;
  const updated = await updateAlert(
    tx,
    alert.id,
    { status: "ACKNOWLEDGED", acknowledged_at: at, acknowledged_by: actor.name, next_escalation_at: null },
    { time: at, kind: "ACKNOWLEDGED", actorKind: actor.kind, actorName: actor.name, details: note ? { note } : {} },
  );
  return { kind: "acknowledged", alert: updated, actor, at };
}

/** A person closes it. */
export async function close(tx: Sql, alert: AlertRow, actor: Actor, at: Date, reason?: string): Promise<Transition | undefined> {
  if (alert.status === "CLOSED") return undefined;
  const updated = await updateAlert(
    tx,
    alert.id,
    { status: "CLOSED", closed_at: at, closed_by: actor.name, close_reason: reason ?? "closed by hand", next_escalation_at: null },
    { time: at, kind: "CLOSED", actorKind: actor.kind, actorName: actor.name, details: reason ? { reason } : {} },
  );
  return { kind: "closed", alert: updated, actor, at };
}

/** Silence notifications until a time (null lifts the silence). */
export async function silence(tx: Sql, alert: AlertRow, actor: Actor, at: Date, until: Date | null): Promise<Transition | undefined> {
  if (alert.status === "CLOSED") return undefined;
  const updated = await updateAlert(
    tx,
    alert.id,
    { silenced_until: until },
    { time: at, kind: until ? "SILENCED" : "UNSILENCED", actorKind: actor.kind, actorName: actor.name, details: until ? { until: until.toISOString() } : {} },
  );
  return { kind: until ? "silenced" : "unsilenced", alert: updated, actor, at };
}
