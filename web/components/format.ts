// Times and durations as people read them: "3 min ago" with the absolute time
// (in the tenant's zone) on hover; "2 h 14 min".

import { html, type VNode } from "../render.ts";

export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

export function absoluteTime(t: Date, timeZone = "UTC"): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, dateStyle: "medium", timeStyle: "medium", timeZoneName: "short" }).format(t);
}

/** <time> showing "3 min ago", the exact time in `timeZone` on hover. */
export function RelativeTime(p: { t: Date; now: Date; timeZone?: string }): VNode {
  const diff = (p.now.getTime() - p.t.getTime()) / 1000;
  const text = Math.abs(diff) < 5 ? "just now" : diff > 0 ? `${humanDuration(diff)} ago` : `in ${humanDuration(-diff)}`;
  return html`<time datetime=${p.t.toISOString()} title=${absoluteTime(p.t, p.timeZone)}>${text}</time>`;
}
