// A time series drawn by uPlot in the browser (islands/chart.js). The page
// carries the data as a JSON data block (<script type="application/json">,
// never executed, so the CSP's script-src does not apply) next to a
// server-rendered sparkline, which is what people without script see and
// what the island replaces.

import { html, type VNode } from "../render.ts";
import { Sparkline } from "./charts.ts";

export const CHART_ISLAND = "islands/chart.js";

export interface ChartLine {
  value: number;
  label: string;
  tone: "bad" | "ok" | "warn";
}

export interface TimeSeriesProps {
  /** Unique on the page. */
  id: string;
  /** What it shows: "temp_c, an hour either side of the trigger". */
  label: string;
  unit?: string | null;
  /** [time ms, avg, min, max] per bucket; null = no data in the bucket. */
  points: ReadonlyArray<readonly [number, number | null, number | null, number | null]>;
  /** Horizontal lines (thresholds). */
  lines?: readonly ChartLine[];
  /** Vertical lines (the moment it fired). */
  marks?: ReadonlyArray<{ at: number; label: string }>;
  /** IANA zone for the time axis. */
  timeZone: string;
  /** The time range shown (ms), when it is wider than the data. */
  range?: readonly [number, number];
  height?: number;
}

/** JSON that is safe inside a <script> element: nothing in it can close the element or start markup. */
export function scriptJson(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export function TimeSeriesChart(p: TimeSeriesProps): VNode {
  const data = {
    label: p.label,
    unit: p.unit ?? null,
    tz: p.timeZone,
    height: p.height ?? 220,
    t: p.points.map((x) => Math.round(x[0] / 1000)),
    avg: p.points.map((x) => x[1]),
    min: p.points.map((x) => x[2]),
    max: p.points.map((x) => x[3]),
    lines: p.lines ?? [],
    marks: (p.marks ?? []).map((m) => ({ at: Math.round(m.at / 1000), label: m.label })),
    range: p.range ? [Math.round(p.range[0] / 1000), Math.round(p.range[1] / 1000)] : null,
  };
  return html`<figure class="ts-chart" data-chart-root=${p.id}>
    <div class="ts-plot" id=${p.id}>
      <div class="ts-fallback">${Sparkline({ values: p.points.map((x) => x[1]), label: p.label, unit: p.unit ?? undefined, width: 640, height: 140 })}</div>
    </div>
    <figcaption class="muted small">${p.label}${p.lines?.length ? html` · ${p.lines.map((l, i) => html`${i ? ", " : ""}${l.label}`)}` : null}</figcaption>
    <script type="application/json" data-chart=${p.id} dangerouslySetInnerHTML=${{ __html: scriptJson(data) }}></script>
  </figure>`;
}
