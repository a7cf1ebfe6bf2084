// Time series charts: uPlot drawn from the JSON data block the page rendered
// next to the chart (<script type="application/json" data-chart="id">, read,
// never executed), replacing the server-rendered sparkline. The average is a
// line over the min–max band; thresholds are dashed lines and the moment an
// alert fired a vertical one. Colours come from the theme's tokens, so the
// chart follows a theme switch; it follows the container's width too.

import uPlot from "uplot";
import uPlotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

interface ChartData {
  label: string;
  unit: string | null;
  tz: string;
  height: number;
  t: number[];
  avg: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
  lines: Array<{ value: number; label: string; tone: "bad" | "ok" | "warn" }>;
  marks: Array<{ at: number; label: string }>;
  range: [number, number] | null;
}

// uPlot's own stylesheet, adopted (a constructed sheet is not inline markup, so the CSP allows it).
try {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(uPlotCss);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
} catch {
  // Older browsers: the chart still draws, the legend is less tidy.
}

/** A theme token as a colour the canvas understands (tokens use light-dark()). */
function token(name: string): string {
  const probe = document.createElement("span");
  probe.style.color = `var(${name})`;
  probe.hidden = true;
  document.body.append(probe);
  const c = getComputedStyle(probe).color;
  probe.remove();
  return c;
}

function withAlpha(rgb: string, alpha: number): string {
  const m = /rgba?\(([^)]+)\)/.exec(rgb);
  if (!m) return rgb;
  const [r, g, b] = m[1]!.split(/[ ,/]+/).filter(Boolean);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

function draw(target: HTMLElement, d: ChartData): uPlot {
  const colors = { line: token("--accent"), text: token("--text-muted"), grid: token("--border"), bad: token("--bad"), ok: token("--ok"), warn: token("--warn") };
  const unit = d.unit ? ` ${d.unit}` : "";
  const fmt = (v: number | null) => (v === null || v === undefined ? "—" : `${Math.round(v * 100) / 100}${unit}`);
  const constant = (v: number) => d.t.map(() => v);
  // Times on the axis and in the legend in the tenant's zone, 24-hour clock.
  const span = (d.range ? d.range[1] - d.range[0] : (d.t.at(-1) ?? 0) - (d.t[0] ?? 0)) / 3600;
  const axisFmt = new Intl.DateTimeFormat("en-GB", span > 36 ? { timeZone: d.tz, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : { timeZone: d.tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const fullFmt = new Intl.DateTimeFormat("en-GB", { timeZone: d.tz, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const data: uPlot.AlignedData = [d.t, d.max, d.min, d.avg, ...d.lines.map((l) => constant(l.value))];
  const opts: uPlot.Options = {
    width: Math.max(240, target.clientWidth),
    height: d.height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), d.tz),
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    scales: { x: { time: true, ...(d.range ? { range: d.range } : {}) } },
    axes: [
      { stroke: colors.text, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid }, values: (_u, splits) => splits.map((t) => axisFmt.format(t * 1000)) },
      { stroke: colors.text, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid }, values: (_u, vals) => vals.map((v) => `${v}${unit}`), size: 60 },
    ],
    series: [
      { label: "Time", value: (_u, t) => (t === null || t === undefined ? "—" : fullFmt.format(t * 1000)) },
      { label: "max", stroke: "transparent", value: (_u, v) => fmt(v), points: { show: false } },
      { label: "min", stroke: "transparent", value: (_u, v) => fmt(v), points: { show: false } },
      { label: d.label.split(",")[0] ?? "value", stroke: colors.line, width: 2, value: (_u, v) => fmt(v), spanGaps: false },
      ...d.lines.map((l) => ({ label: l.label, stroke: colors[l.tone], width: 1.5, dash: [6, 4], points: { show: false }, value: () => fmt(l.value) })),
    ],
    bands: [{ series: [1, 2], fill: withAlpha(colors.line, 0.14) }],
    hooks: {
      draw: [
        (u: uPlot) => {
          const ctx = u.ctx;
          for (const m of d.marks) {
            const x = Math.round(u.valToPos(m.at, "x", true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.save();
            ctx.strokeStyle = colors.bad;
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillStyle = colors.bad;
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            // The label sits on the side of the line with room for it.
            const right = x + 60 * devicePixelRatio < u.bbox.left + u.bbox.width;
            ctx.textAlign = right ? "left" : "right";
            ctx.fillText(m.label, x + (right ? 4 : -4) * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
            ctx.restore();
          }
        },
      ],
    },
  };
  return new uPlot(opts, data, target);
}

for (const script of document.querySelectorAll<HTMLScriptElement>('script[type="application/json"][data-chart]')) {
  const target = document.getElementById(script.dataset.chart ?? "");
  if (!target) continue;
  let d: ChartData;
  try {
    d = JSON.parse(script.textContent ?? "") as ChartData;
  } catch {
    continue;
  }
  if (!d.t.length) continue;
  let plot: uPlot | undefined;
  const mount = () => {
    plot?.destroy();
    target.replaceChildren();
    plot = draw(target, d);
    target.classList.add("ts-ready");
    target.dataset.chartReady = "true";
  };
  mount();
  new ResizeObserver(() => {
    if (plot && Math.abs(plot.width - target.clientWidth) > 2) plot.setSize({ width: Math.max(240, target.clientWidth), height: d.height });
  }).observe(target);
  // Colours follow a theme switch.
  new MutationObserver(mount).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "class"] });
}
