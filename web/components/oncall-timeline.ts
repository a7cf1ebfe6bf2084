// The on-call timeline: a Gantt-style SVG, one row per layer (what each
// would put on call alone), an overrides row when there are any, and the
// final "who is paged" row. Each person has a stable colour and their name
// or initials in the bar (never colour alone); gaps in the final row are
// hatched and say "gap"; a line marks now and each DST transition ("DST
// −1 h 03:00"). Every bar has a <title> (who, exact times in the schedule's
// zone), which the timeline-hover island turns into a tooltip. Colours come
// from classes in app.css (the CSP forbids inline styles).

import { instantOrAfterGap, localParts } from "../../src/lib/zoned.ts";
import { html, type VNode } from "../render.ts";
import { humanDuration } from "./format.ts";

export interface TimelinePerson {
  id: string;
  username: string;
  name: string;
}

export interface TimelineBar {
  start: Date;
  end: Date;
  /** null: nobody (drawn as a gap in the final row, left empty in the others). */
  user: TimelinePerson | null;
  /** Why this person: "layer Primary", "override". */
  via?: string;
}

export interface TimelineRow {
  key: string;
  label: string;
  kind: "layer" | "override" | "final";
  bars: TimelineBar[];
}

export interface OnCallTimelineProps {
  zone: string;
  from: Date;
  to: Date;
  now: Date;
  rows: TimelineRow[];
  dst: ReadonlyArray<{ at: Date; offsetBefore: number; offsetAfter: number }>;
  /** What the figure shows, for assistive tech and the caption. */
  label: string;
  /** Unique ids when a page has more than one timeline. */
  idPrefix?: string;
}

/** How many colours people cycle through (tl-c0 … in app.css). */
export const PERSON_COLOURS = 12;

/** A person's colour class, the same on every page: a hash of their id. */
export function personColour(id: string): string {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return `tl-c${(h >>> 0) % PERSON_COLOURS}`;
}

/** "AA" for Alice Admin; the username's first two letters without a name. */
export function initials(p: Pick<TimelinePerson, "name" | "username">): string {
  const words = p.name.trim().split(/\s+/).filter(Boolean);
  if (words.length >= 2) return (words[0]![0]! + words[words.length - 1]![0]!).toUpperCase();
  return (words[0] ?? p.username).slice(0, 2).toUpperCase();
}

const HHMM = (ms: number, offsetMinutes: number) => {
  const d = new Date(ms + offsetMinutes * 60_000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
};

/** "DST −1 h 03:00": how the clocks move and the local time they move at (read before the change). */
export function dstLabel(t: { at: Date; offsetBefore: number; offsetAfter: number }): string {
  const diff = t.offsetAfter - t.offsetBefore;
  const amount = Math.abs(diff) % 60 === 0 ? `${Math.abs(diff) / 60} h` : `${Math.abs(diff)} min`;
  return `DST ${diff < 0 ? "−" : "+"}${amount} ${HHMM(t.at.getTime(), t.offsetBefore)}`;
}

/** "Sun 25 Oct" in the zone. */
function dayText(t: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "short" }).format(t);
}

/** "Tue 27 Oct, 09:00 CET" in the zone. */
export function zonedTime(t: Date, zone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }).format(t);
}

/** "Tue 27 Oct, 09:00 CET – Wed 28 Oct, 09:00 CET (24 h)". */
export function zonedSpan(start: Date, end: Date, zone: string): string {
  return `${zonedTime(start, zone)} – ${zonedTime(end, zone)} (${humanDuration((end.getTime() - start.getTime()) / 1000)})`;
}

const personText = (u: TimelinePerson) => (u.name && u.name !== u.username ? `${u.username} (${u.name})` : u.username);

/** A bar's hover text: who, why, and the exact span in the zone. */
export function barTitle(b: TimelineBar, zone: string, final: boolean): string {
  const who = b.user ? personText(b.user) : final ? "Gap: nobody is on call" : "Not covered by this layer";
  return `${who}${b.user && b.via ? ` · ${b.via}` : ""}\n${zonedSpan(b.start, b.end, zone)}`;
}

// Geometry in viewBox units; the SVG scales to the width of the page.
const W = 1000;
const LABEL_W = 118;
const RIGHT = 8;
const HEAD = 46;
const ROW_H = 30;
const ROW_GAP = 8;
const FOOT = 22;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Local midnights in [from, to], and the local date each starts. */
function days(from: Date, to: Date, zone: string): Array<{ at: number; year: number; month: number; day: number; weekday: number }> {
  const out = [];
  const l = localParts(from.getTime(), zone);
  for (let i = 0; i < 400; i++) {
    const d = new Date(Date.UTC(l.year, l.month - 1, l.day + i));
    const at = instantOrAfterGap({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0 }, zone);
    if (at > to.getTime()) break;
    out.push({ at, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() });
  }
  return out;
}

const WEEKDAY = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The text that fits a bar of this width: the username, the initials, or nothing (the title still says who). */
function barText(u: TimelinePerson, width: number): string {
  const fits = (s: string) => s.length * 6.6 + 10 <= width;
  if (fits(u.username)) return u.username;
  const i = initials(u);
  return fits(i) ? i : "";
}

export function OnCallTimeline(p: OnCallTimelineProps): VNode {
  const id = p.idPrefix ?? "oncall";
  const t0 = p.from.getTime();
  const t1 = p.to.getTime();
  const chartW = W - LABEL_W - RIGHT;
  const x = (t: number) => r1(LABEL_W + ((Math.min(t1, Math.max(t0, t)) - t0) / (t1 - t0)) * chartW);
  const rowsTop = HEAD;
  const height = rowsTop + p.rows.length * (ROW_H + ROW_GAP) + FOOT;
  const rowsBottom = rowsTop + p.rows.length * (ROW_H + ROW_GAP) - ROW_GAP;
  const dayList = days(p.from, p.to, p.zone);
  const now = p.now.getTime();
  const nowIn = now >= t0 && now <= t1;

  const dayBands = dayList.map((d, i) => {
    const start = Math.max(d.at, t0);
    const end = Math.min(dayList[i + 1]?.at ?? t1, t1);
    if (end <= start) return null;
    const weekend = d.weekday === 0 || d.weekday === 6;
    const mid = (x(start) + x(end)) / 2;
    const w = x(end) - x(start);
    // The month where a window starts or a month begins, when there is room; else weekday and day.
    const month = i === 0 || d.day === 1 ? ` ${MONTH[d.month - 1]}` : "";
    const label = w > 74 || (w > 58 && !month) ? `${WEEKDAY[d.weekday]} ${d.day}${w > 74 ? month : ""}` : w > 40 ? `${WEEKDAY[d.weekday]} ${d.day}` : w > 18 ? `${d.day}` : "";
    return html`<g class="tl-day">
      ${weekend ? html`<rect class="tl-weekend" x=${x(start)} y=${rowsTop - 4} width=${r1(x(end) - x(start))} height=${rowsBottom - rowsTop + 8} />` : null}
      ${d.at >= t0 ? html`<line class="tl-grid" x1=${x(d.at)} y1=${HEAD - 22} x2=${x(d.at)} y2=${rowsBottom + 4} />` : null}
      ${label ? html`<text class="tl-day-label" x=${r1(mid)} y="16" text-anchor="middle">${label}</text>` : null}
    </g>`;
  });

  const rows = p.rows.map((row, i) => {
    const y = rowsTop + i * (ROW_H + ROW_GAP);
    const final = row.kind === "final";
    const bars = row.bars.filter((b) => b.end.getTime() > t0 && b.start.getTime() < t1 && (b.user || final));
    return html`<g class=${`tl-row tl-row-${row.kind}`} data-row=${row.kind} data-row-label=${row.label}>
      <rect class="tl-track" x=${LABEL_W} y=${y} width=${chartW} height=${ROW_H} rx="3" />
      <text class="tl-row-label" x="2" y=${y + ROW_H / 2 + 4}>${row.label.length > 15 ? row.label.slice(0, 14) + "…" : row.label}</text>
      ${bars.map((b) => {
        const bx = x(b.start.getTime());
        const bw = Math.max(1, r1(x(b.end.getTime()) - bx));
        const title = barTitle(b, p.zone, final);
        const text = b.user ? barText(b.user, bw) : bw >= 28 ? "gap" : "";
        const cls = b.user ? `tl-seg tl-bar ${personColour(b.user.id)}` : "tl-seg tl-gap";
        return html`<g class=${cls} data-seg data-user=${b.user?.username ?? ""} data-start=${b.start.toISOString()} data-end=${b.end.toISOString()} tabindex=${row.kind === "layer" ? undefined : "0"}>
          <title>${title}</title>
          <rect x=${bx} y=${y + 2} width=${bw} height=${ROW_H - 4} rx="3" fill=${b.user ? undefined : `url(#${id}-hatch)`} />
          ${text ? html`<text class="tl-bar-text" x=${r1(bx + bw / 2)} y=${y + ROW_H / 2 + 4} text-anchor="middle">${text}</text>` : null}
        </g>`;
      })}
    </g>`;
  });

  const dst = p.dst
    .filter((t) => t.at.getTime() >= t0 && t.at.getTime() <= t1)
    .map((t) => {
      const label = dstLabel(t);
      const lx = x(t.at.getTime());
      return html`<g class="tl-dst" data-dst=${label}>
        <title>${`${label}: ${dayText(t.at, p.zone)}, the clocks in ${p.zone} go ${t.offsetAfter < t.offsetBefore ? "back" : "forward"} from ${HHMM(t.at.getTime(), t.offsetBefore)} to ${HHMM(t.at.getTime(), t.offsetAfter)}`}</title>
        <line x1=${lx} y1=${HEAD - 16} x2=${lx} y2=${rowsBottom + 4} stroke-dasharray="4 3" />
        <text class="tl-dst-label" x=${lx + 4} y=${HEAD - 8}>${label}</text>
      </g>`;
    });

  const summary = `${p.label}: ${zonedTime(p.from, p.zone)} to ${zonedTime(p.to, p.zone)}`;
  return html`<figure class="oncall-timeline" data-oncall-timeline data-zone=${p.zone}>
    <svg viewBox=${`0 0 ${W} ${height}`} width="100%" role="group" aria-label=${summary} preserveAspectRatio="xMinYMin meet">
      <defs>
        <pattern id=${`${id}-hatch`} class="tl-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect class="tl-hatch-bg" width="8" height="8" />
          <line class="tl-hatch-line" x1="0" y1="0" x2="0" y2="8" stroke-width="3" />
        </pattern>
      </defs>
      ${dayBands} ${rows}
      ${now > t0 ? html`<rect class="tl-past" x=${LABEL_W} y=${rowsTop - 4} width=${r1(x(now) - LABEL_W)} height=${rowsBottom - rowsTop + 8} />` : null}
      ${dst}
      ${nowIn
        ? html`<g class="tl-now" data-now=${p.now.toISOString()}>
            <title>${`Now: ${zonedTime(p.now, p.zone)}`}</title>
            <line x1=${x(now)} y1=${HEAD - 22} x2=${x(now)} y2=${rowsBottom + 6} stroke-width="2" />
            <text class="tl-now-label" x=${x(now)} y=${rowsBottom + 18} text-anchor="middle">now ${HHMM(now, localOffset(now, p.zone))}</text>
          </g>`
        : null}
    </svg>
    <figcaption class="visually-hidden">${summary}</figcaption>
  </figure>`;
}

/** The zone's offset at an instant, in minutes. */
function localOffset(ms: number, zone: string): number {
  const l = localParts(ms, zone);
  return Math.round((Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** Who appears in the timeline, each with their colour: the legend under it. */
export function TimelineLegend(p: { people: TimelinePerson[]; gaps: boolean; dst: boolean }): VNode {
  return html`<ul class="tl-legend" aria-label="Legend">
    ${p.people.map(
      (u) => html`<li data-legend-user=${u.username}>
        <svg class=${`tl-swatch ${personColour(u.id)}`} viewBox="0 0 14 14" width="14" height="14" aria-hidden="true"><rect class="tl-swatch-rect" width="14" height="14" rx="3" /></svg>
        ${u.username}${u.name && u.name !== u.username ? html` <span class="muted">${u.name}</span>` : null}
      </li>`,
    )}
    ${p.gaps
      ? html`<li>
          <svg class="tl-swatch tl-gap" viewBox="0 0 14 14" width="14" height="14" aria-hidden="true"><rect class="tl-swatch-rect" width="14" height="14" rx="3" /></svg>
          gap: nobody is on call
        </li>`
      : null}
    ${p.dst ? html`<li><span class="tl-legend-dst" aria-hidden="true"></span> DST: the clocks change</li>` : null}
  </ul>`;
}
