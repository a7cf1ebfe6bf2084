// Small server-rendered SVG charts: a sparkline for a trend and a half-circle
// gauge for one value against its thresholds. Colours come from classes in
// app.css (the CSP forbids inline styles); geometry is plain SVG attributes.
// Both carry a text equivalent (role="img" + aria-label, and <title> on hover).

import { html, type VNode } from "../render.ts";
import type { Tone } from "./badges.ts";
import { formatValue } from "./format.ts";

const r2 = (n: number) => Math.round(n * 100) / 100;

export interface SparklineProps {
  /** Oldest first; null is a gap (no data in that interval). */
  values: Array<number | null>;
  /** What it shows, e.g. "Temperature, last 24 h". */
  label: string;
  unit?: string;
  width?: number;
  height?: number;
  /** Fixed scale; otherwise the data's own range. */
  min?: number;
  max?: number;
  tone?: Tone;
}

export function Sparkline(p: SparklineProps): VNode {
  const w = p.width ?? 120;
  const h = p.height ?? 28;
  const pad = 2;
  const nums = p.values.filter((v): v is number => v !== null && Number.isFinite(v));
  const cls = `spark tone-${p.tone ?? "accent"}`;
  if (nums.length === 0) {
    const label = `${p.label}: no data`;
    return html`<svg class=${cls + " spark-empty"} viewBox=${`0 0 ${w} ${h}`} width=${w} height=${h} role="img" aria-label=${label}>
      <title>${label}</title>
      <line class="spark-baseline" x1="0" y1=${h / 2} x2=${w} y2=${h / 2} stroke-dasharray="3 3" />
    </svg>`;
  }
  const lo = p.min ?? Math.min(...nums);
  const hi = p.max ?? Math.max(...nums);
  const n = p.values.length;
  const x = (i: number) => r2(n === 1 ? w / 2 : (i / (n - 1)) * w);
  const y = (v: number) => r2(hi === lo ? h / 2 : h - pad - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - 2 * pad));

  // Split into runs of consecutive values; a gap is a gap, not a line to zero.
  const runs: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  p.values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (run.length) runs.push(run);
      run = [];
    } else run.push([x(i), y(v)]);
  });
  if (run.length) runs.push(run);

  const line = runs.map((r) => r.map(([px, py], i) => `${i ? "L" : "M"}${px} ${py}`).join("")).join("");
  const area = runs
    .filter((r) => r.length > 1)
    .map((r) => `M${r[0]![0]} ${h}` + r.map(([px, py]) => `L${px} ${py}`).join("") + `L${r[r.length - 1]![0]} ${h}Z`)
    .join("");
  const lastIndex = p.values.findLastIndex((v) => v !== null && Number.isFinite(v));
  const last = p.values[lastIndex] as number;
  const label = `${p.label}: latest ${formatValue(last, p.unit)}, range ${formatValue(Math.min(...nums), p.unit)} to ${formatValue(Math.max(...nums), p.unit)}`;
  return html`<svg class=${cls} viewBox=${`0 0 ${w} ${h}`} width=${w} height=${h} role="img" aria-label=${label}>
    <title>${label}</title>
    ${area ? html`<path class="spark-area" d=${area} />` : null}
    <path class="spark-line" d=${line} fill="none" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round" />
    <circle class="spark-last" cx=${x(lastIndex)} cy=${y(last)} r="2.25" />
  </svg>`;
}

export interface GaugeProps {
  /** null: no reading. */
  value: number | null;
  label: string;
  unit?: string;
  min?: number;
  max?: number;
  /** Thresholds in the value's unit. */
  warn?: number;
  crit?: number;
  /** Battery, signal: low values are the bad ones. */
  lowerIsWorse?: boolean;
  size?: number;
}

/** The tone a value earns against its thresholds. */
export function gaugeTone(p: Pick<GaugeProps, "value" | "warn" | "crit" | "lowerIsWorse">): Tone {
  if (p.value === null) return "idle";
  const worse = (v: number, t: number | undefined) => t !== undefined && (p.lowerIsWorse ? v <= t : v >= t);
  if (worse(p.value, p.crit)) return "bad";
  if (worse(p.value, p.warn)) return "warn";
  return "ok";
}

const TONE_WORD: Record<Tone, string> = { ok: "normal", warn: "warning", bad: "critical", idle: "no data", accent: "" };

export function Gauge(p: GaugeProps): VNode {
  const min = p.min ?? 0;
  const max = p.max ?? 100;
  const size = p.size ?? 120;
  const cx = 60;
  const cy = 62;
  const r = 48;
  const frac = (v: number) => (max === min ? 0 : Math.min(1, Math.max(0, (v - min) / (max - min))));
  const at = (f: number, radius = r): [number, number] => [r2(cx - radius * Math.cos(Math.PI * f)), r2(cy - radius * Math.sin(Math.PI * f))];
  const arc = (f: number) => {
    const [ex, ey] = at(f);
    return `M${cx - r} ${cy}A${r} ${r} 0 0 1 ${ex} ${ey}`;
  };
  const tone = gaugeTone(p);
  const text = p.value === null ? "—" : formatValue(p.value);
  const ticks = [p.warn, p.crit].filter((t): t is number => t !== undefined);
  const label = `${p.label}: ${p.value === null ? "no data" : formatValue(p.value, p.unit)}${ticks.length ? ` (${TONE_WORD[tone]})` : ""}`;
  return html`<figure class=${`gauge tone-${tone}`}>
    <svg viewBox="0 0 120 74" width=${size} height=${r2((size * 74) / 120)} role="img" aria-label=${label}>
      <title>${label}</title>
      <path class="gauge-track" d=${arc(1)} fill="none" stroke-width="10" stroke-linecap="round" />
      ${p.value !== null && frac(p.value) > 0
        ? html`<path class="gauge-value" d=${arc(frac(p.value))} fill="none" stroke-width="10" stroke-linecap="round" />`
        : null}
      ${ticks.map((t) => {
        const [x1, y1] = at(frac(t), r - 8);
        const [x2, y2] = at(frac(t), r + 8);
        return html`<line class="gauge-tick" x1=${x1} y1=${y1} x2=${x2} y2=${y2} stroke-width="1.5" />`;
      })}
      <text class="gauge-text" x=${cx} y=${cy - 4} text-anchor="middle">${text}${p.unit ? html`<tspan class="gauge-unit" dx="2">${p.unit}</tspan>` : null}</text>
      <text class="gauge-scale" x=${cx - r} y="73" text-anchor="middle">${formatValue(min)}</text>
      <text class="gauge-scale" x=${cx + r} y="73" text-anchor="middle">${formatValue(max)}</text>
    </svg>
    <figcaption>${p.label}</figcaption>
  </figure>`;
}
