// What the on-call pages share: their dependencies, the tabs between the
// schedules and "my on-call", the page for people outside a tenant, and how
// layers read in words ("Daily at 09:00", "Mon–Fri 09:00–17:00") and back.

import type { Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { invalid } from "../../src/lib/errors.ts";
import type { Restriction, Weekday } from "../../src/oncall/resolve.ts";
import type { LayerRow } from "../../src/oncall/service.ts";
import { EmptyState } from "../components/empty.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

export interface OnCallPageDeps {
  auth: Auth;
}

/** The deps the on-call, contact and escalation services take, from the auth bundle. */
export const serviceDeps = (auth: Auth) => ({ db: auth.db, clock: auth.clock, secrets: auth.secrets });

export type OnCallTab = "schedules" | "me";

export function OnCallTabs(p: { current: OnCallTab }): VNode {
  const tabs: Array<{ key: OnCallTab; label: string; href: string }> = [
    { key: "schedules", label: "Schedules", href: "/oncall" },
    { key: "me", label: "My on-call", href: "/oncall/me" },
  ];
  return html`<nav class="tabs" aria-label="On-call">
    ${tabs.map((t) => html`<a href=${t.href} data-tab=${t.key} aria-current=${t.key === p.current ? "page" : undefined}>${t.label}</a>`)}
  </nav>`;
}

/** Schedules and policies belong to a tenant: people outside one (operators) choose it first. */
export function needsTenant(c: Context<HttpEnv>, env: PageEnv, what: { title: string; active: string; body: string }): Response | undefined {
  if (callerFrom(c).tenantId) return undefined;
  return renderPage(
    c,
    env,
    { title: what.title, active: what.active },
    html`${PageHeader({ title: what.title })} ${EmptyState({ title: `${what.title} belong to a tenant`, body: what.body })}`,
  );
}

/** Monday first, as people read a week. */
export const WEEK: readonly Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
export const DAY_SHORT: Record<Weekday, string> = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };
export const DAY_LONG: Record<Weekday, string> = { MO: "Monday", TU: "Tuesday", WE: "Wednesday", TH: "Thursday", FR: "Friday", SA: "Saturday", SU: "Sunday" };

/** "Daily at 09:00", "Weekly, Mondays at 09:00", "Every 12 h from 08:00". */
export function rotationText(l: Pick<LayerRow, "rotation" | "length_hours" | "handoff_time" | "handoff_weekday">): string {
  if (l.rotation === "daily") return `Daily at ${l.handoff_time}`;
  if (l.rotation === "weekly") return `Weekly, ${l.handoff_weekday ? DAY_LONG[l.handoff_weekday] + "s" : "each week"} at ${l.handoff_time}`;
  const n = l.length_hours ?? 24;
  return n % 24 === 0 ? `Every ${n / 24} days at ${l.handoff_time}` : `Every ${n} h from ${l.handoff_time}`;
}

/** Consecutive days as ranges: MO,TU,WE,TH,FR → "Mon–Fri"; SA,SU → "Sat–Sun"; MO,WE → "Mon, Wed". */
function daysText(days: readonly Weekday[]): string {
  const idx = [...new Set(days.map((d) => WEEK.indexOf(d)))].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${DAY_SHORT[WEEK[idx[i]!]!]}–${DAY_SHORT[WEEK[idx[j]!]!]}` : idx.slice(i, j + 1).map((k) => DAY_SHORT[WEEK[k]!]).join(", "));
    i = j + 1;
  }
  return parts.join(", ");
}

/** One restriction as a line: "Mon–Fri 09:00–17:00", or "17:00–09:00" for every day. */
export function restrictionText(r: Restriction): string {
  return `${r.days?.length ? daysText(r.days) + " " : ""}${r.start}–${r.end}`;
}

/** The restrictions as the form's text (one per line). */
export function restrictionsValue(rs: readonly Restriction[]): string {
  return rs.map(restrictionText).join("\n");
}

const DAY_NAMES: Record<string, Weekday> = Object.fromEntries(
  WEEK.flatMap((d) => [
    [d.toLowerCase(), d],
    [DAY_SHORT[d].toLowerCase(), d],
    [DAY_LONG[d].toLowerCase(), d],
  ]),
);

function dayOf(token: string, line: string): Weekday {
  const d = DAY_NAMES[token.trim().toLowerCase()];
  if (!d) throw invalid("restrictions", `restrictions: "${token.trim()}" is not a day (in "${line}"); write Mon, Tue… or MO, TU…`);
  return d;
}

/**
 * The form's restriction lines as the service takes them: "Mon–Fri
 * 09:00–17:00", "Sat, Sun 10:00-18:00", or "22:00–06:00" (every day, past
 * midnight). Empty: no restrictions.
 */
export function parseRestrictions(text: string | undefined): Restriction[] {
  const out: Restriction[] = [];
  for (const raw of (text ?? "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(.*?)\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})$/.exec(line);
    if (!m) throw invalid("restrictions", `restrictions: write each line as days and hours, like "Mon–Fri 09:00–17:00" (not "${line}")`);
    const pad = (t: string) => t.padStart(5, "0");
    const days: Weekday[] = [];
    for (const part of m[1]!.split(/[,\s]+/).filter(Boolean)) {
      const range = part.split(/[-–—]/);
      if (range.length === 2) {
        const a = WEEK.indexOf(dayOf(range[0]!, line));
        const b = WEEK.indexOf(dayOf(range[1]!, line));
        for (let k = a; ; k = (k + 1) % 7) {
          days.push(WEEK[k]!);
          if (k === b) break;
        }
      } else days.push(dayOf(part, line));
    }
    out.push({ ...(days.length ? { days: [...new Set(days)] } : {}), start: pad(m[2]!), end: pad(m[3]!) });
  }
  return out;
}

/** Weekdays for a select, Monday first. */
export const WEEKDAY_OPTIONS = WEEK.map((d) => ({ value: d, label: DAY_LONG[d] }));
