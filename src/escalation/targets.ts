// What one escalation level reaches at a given moment: people through their
// contact methods, schedules through whoever is on call at that moment,
// channels as themselves, webhooks by their URL. Shared by the worker (which
// writes the pages to the outbox) and the dry run (which only shows them).

import type { Severity } from "../alerts/evaluate.ts";
import type { Sql } from "../db/db.ts";
import type { Recipient } from "../notify/personal.ts";
import { resolveOnCallIn } from "../oncall/calendar.ts";
import { contactsForPaging } from "../oncall/contacts.ts";
import { channelOf, type StoredTarget } from "./store.ts";

export interface PlannedPage {
  /** The same destination is paged once per level, however many targets lead to it. */
  key: string;
  destination: { channelId: string } | { recipient: Recipient; sealed: string | null };
}

export interface TargetOutcome {
  target: { type: StoredTarget["type"]; id: string };
  /** Who or what, for people: "dana", "channel Ops (slack)", "webhook https://hooks.example/…". */
  who: string;
  userId: string | null;
  /** The schedule that put this person on call. */
  onCallFor: string | null;
  pages: PlannedPage[];
  /** Why nobody was paged for this target. */
  skipped: string | null;
}

const targetId = (t: StoredTarget) => (t.type === "user" ? t.user_id : t.type === "schedule" ? t.schedule_id : t.type === "channel" ? t.channel_id : t.id);

async function person(tx: Sql, tenantId: string, userId: string, severity: Severity, seen: Set<string>): Promise<Pick<TargetOutcome, "who" | "pages" | "skipped" | "userId">> {
  const { person, contacts, reason } = await contactsForPaging(tx, tenantId, userId, severity);
  const who = person?.username ?? userId;
  const pages: PlannedPage[] = [];
  for (const c of contacts) {
    const key = c.contactMethodId ?? `email:${c.address.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const recipient: Recipient = { kind: c.kind, address: c.address, user_id: userId, username: person?.username ?? null, contact_method_id: c.contactMethodId, label: `${who} · ${c.kind} ${c.address}` };
    pages.push({ key, destination: { recipient, sealed: c.secrets } });
  }
  const skipped = pages.length ? null : contacts.length ? "already paged at this level" : (reason ?? "has nowhere to be paged");
  return { who, userId: person ? userId : null, pages, skipped };
}

/** The outcome of each target of a level for an alert of this severity, at `at`. */
export async function resolveLevel(tx: Sql, alert: { tenantId: string; severity: Severity }, targets: readonly StoredTarget[], at: Date): Promise<TargetOutcome[]> {
  const seen = new Set<string>();
  const out: TargetOutcome[] = [];
  for (const t of targets) {
    const base = { target: { type: t.type, id: targetId(t) }, onCallFor: null, userId: null };
    if (t.type === "user") {
      out.push({ ...base, ...(await person(tx, alert.tenantId, t.user_id, alert.severity, seen)) });
    } else if (t.type === "schedule") {
      const who = await resolveOnCallIn(tx, t.schedule_id, at);
      if ("missing" in who) out.push({ ...base, who: `schedule ${t.schedule_id}`, pages: [], skipped: "the schedule no longer exists" });
      else if ("gap" in who) out.push({ ...base, who: `schedule ${who.schedule.name}`, pages: [], skipped: "nobody is on call (a gap in the schedule)" });
      else out.push({ ...base, onCallFor: who.schedule.name, ...(await person(tx, alert.tenantId, who.userId, alert.severity, seen)) });
    } else if (t.type === "channel") {
      const ch = await channelOf(tx, alert.tenantId, t.channel_id);
      if (!ch) out.push({ ...base, who: `channel ${t.channel_id}`, pages: [], skipped: "the channel no longer exists" });
      else if (!ch.enabled) out.push({ ...base, who: `channel ${ch.name} (${ch.type})`, pages: [], skipped: "the channel is disabled" });
      else if (seen.has(ch.id)) out.push({ ...base, who: `channel ${ch.name} (${ch.type})`, pages: [], skipped: "already notified at this level" });
      else {
        seen.add(ch.id);
        out.push({ ...base, who: `channel ${ch.name} (${ch.type})`, pages: [{ key: ch.id, destination: { channelId: ch.id } }], skipped: null });
      }
    } else {
      const recipient: Recipient = { kind: "webhook", address: t.display, user_id: null, username: null, contact_method_id: null, label: `webhook ${t.display}` };
      const fresh = !seen.has(t.id);
      seen.add(t.id);
      out.push({ ...base, who: `webhook ${t.display}`, pages: fresh ? [{ key: t.id, destination: { recipient, sealed: t.sealed } }] : [], skipped: fresh ? null : "already called at this level" });
    }
  }
  return out;
}

/** One line for the alert's timeline: "level 2: paged dana via email, on call for Primary". */
export function describeOutcome(level: number, o: TargetOutcome): string {
  if (!o.pages.length) return `level ${level}: ${o.who}${o.onCallFor ? ` (on call for ${o.onCallFor})` : ""} not paged: ${o.skipped}`;
  if (o.target.type === "channel") return `level ${level}: notified ${o.who}`;
  if (o.target.type === "webhook") return `level ${level}: called ${o.who}`;
  const via = [...new Set(o.pages.map((p) => ("recipient" in p.destination ? p.destination.recipient.kind : "channel")))].join(", ");
  return `level ${level}: paged ${o.who} via ${via}${o.onCallFor ? `, on call for ${o.onCallFor}` : ""}`;
}
