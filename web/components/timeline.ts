// An alert's timeline: what happened, who did it, when, and the value at the
// time, oldest first. Each entry is a sentence a person can read aloud
// ("Acknowledged by alice", "Closed by bob: replaced the fan"), with the
// relative time and the exact time in the tenant's zone on hover.

import { html, type VNode } from "../render.ts";
import type { Tone } from "./badges.ts";
import { absoluteTime, formatValue, RelativeTime } from "./format.ts";

export interface TimelineEvent {
  time: Date;
  kind: string;
  actor_kind: string;
  actor_name: string;
  value: unknown;
  details: Record<string, unknown>;
}

interface Described {
  text: string;
  tone: Tone;
  note?: string;
}

const by = (e: TimelineEvent) => (e.actor_kind === "system" ? "" : ` by ${e.actor_name}`);
const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

function describe(e: TimelineEvent, timeZone: string): Described {
  const d = e.details ?? {};
  switch (e.kind) {
    case "OPENED":
      return { text: "Opened", tone: "bad", note: d.suppressed ? "During a maintenance window: recorded, not notified." : undefined };
    case "TRIGGERED":
      return { text: "Triggered again", tone: "bad" };
    case "REOPENED":
      return { text: "Re-opened", tone: "bad", note: d.suppressed ? "During a maintenance window: recorded, not notified." : "It came back within the rule's re-open window." };
    case "ACKNOWLEDGED":
      return { text: `Acknowledged${by(e)}`, tone: "warn", note: str(d.note) };
    case "CLEARED":
      return { text: "Condition cleared", tone: "ok", note: "The value is back to normal; the rule leaves closing it to a person." };
    case "RESOLVED":
      return { text: "Resolved", tone: "ok", note: str(d.reason) };
    case "CLOSED":
      return { text: `Closed${by(e)}`, tone: "ok", note: str(d.reason) };
    case "SILENCED": {
      const until = typeof d.until === "string" ? new Date(d.until) : undefined;
      return { text: `Silenced${by(e)}`, tone: "idle", note: until && !Number.isNaN(until.getTime()) ? `Notifications paused until ${absoluteTime(until, timeZone)}.` : undefined };
    }
    case "UNSILENCED":
      return { text: `Silence lifted${by(e)}`, tone: "idle" };
    case "ESCALATED":
      return { text: `Escalated${typeof d.level === "number" ? ` to level ${d.level}` : ""}`, tone: "warn", note: str(d.to) };
    default: {
      const words = e.kind.toLowerCase().replaceAll("_", " ");
      return { text: words.charAt(0).toUpperCase() + words.slice(1) + by(e), tone: "idle", note: str(d.note) ?? str(d.reason) };
    }
  }
}

/** A value as recorded in an event: numbers with the metric's unit, anything else as JSON. */
export function eventValue(v: unknown, unit?: string | null): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "number") return formatValue(v, unit ?? undefined);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

export function Timeline(p: { events: readonly TimelineEvent[]; now: Date; timeZone: string; unit?: string | null; label?: string }): VNode {
  return html`<ol class="timeline" aria-label=${p.label ?? "Timeline"}>
    ${p.events.map((e) => {
      const d = describe(e, p.timeZone);
      const value = eventValue(e.value, p.unit);
      return html`<li class=${`tl-item tl-${d.tone}`} data-event=${e.kind}>
        <span class="tl-dot" aria-hidden="true"></span>
        <div class="tl-body">
          <div class="tl-head">
            <span class="tl-what">${d.text}</span>
            ${value !== undefined ? html`<span class="tl-value">value <strong>${value}</strong></span>` : null}
            <span class="tl-when muted">${RelativeTime({ t: e.time, now: p.now, timeZone: p.timeZone })}</span>
          </div>
          ${d.note ? html`<div class="tl-note">${d.note}</div>` : null}
        </div>
      </li>`;
    })}
  </ol>`;
}
