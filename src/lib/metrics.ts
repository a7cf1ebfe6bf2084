// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format for GET /metrics. Each part of Pulse
// registers what it measures; gauges that mirror state are read at scrape time.

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

interface HistSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}
export interface Gauge {
  set(value: number, labels?: Labels): void;
}
export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

type Metric =
  | { kind: "counter"; help: string; series: Map<string, Series> }
  | { kind: "gauge"; help: string; series: Map<string, Series>; collect?: () => Array<[number, Labels?]>; type?: "counter" }
  | { kind: "histogram"; help: string; bounds: number[]; series: Map<string, HistSeries> };

export const DEFAULT_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface Metrics {
  counter(name: string, help: string): Counter;
  gauge(name: string, help: string): Gauge;
  /** A value read at scrape time (queue depth, connections, memory); `counter` for monotonic ones kept elsewhere. */
  collect(name: string, help: string, fn: () => number | Array<[number, Labels?]>, type?: "gauge" | "counter"): void;
  histogram(name: string, help: string, bounds?: number[]): Histogram;
  render(): string;
}

export function createMetrics(): Metrics {
  const metrics = new Map<string, Metric>();
  const key = seriesKey;

  const register = <M extends Metric>(name: string, m: M): M => {
    const existing = metrics.get(name);
    if (existing) {
      if (existing.kind !== m.kind) throw new Error(`metrics: ${name} registered twice with different kinds`);
      return existing as M;
    }
    metrics.set(name, m);
    return m;
  };

  return {
    counter(name, help) {
      const m = register(name, { kind: "counter", help, series: new Map<string, Series>() });
      return {
        inc(labels = {}, by = 1) {
          const k = key(labels);
          const s = m.series.get(k);
          if (s) s.value += by;
          else m.series.set(k, { labels, value: by });
        },
        get(labels = {}) {
          return m.series.get(key(labels))?.value ?? 0;
        },
      };
    },
    gauge(name, help) {
      const m = register(name, { kind: "gauge", help, series: new Map<string, Series>() });
      return {
        set(value, labels = {}) {
          m.series.set(key(labels), { labels, value });
        },
      };
    },
    collect(name, help, fn, type = "gauge") {
      register(name, {
        kind: "gauge",
        type: type === "counter" ? "counter" : undefined,
        help,
        series: new Map(),
        collect: () => {
          const v = fn();
          return typeof v === "number" ? [[v]] : v;
        },
      });
    },
    histogram(name, help, bounds = DEFAULT_SECONDS_BUCKETS) {
      const m = register(name, { kind: "histogram", help, bounds, series: new Map<string, HistSeries>() });
      return {
        observe(value, labels = {}) {
          const k = key(labels);
          let s = m.series.get(k);
          if (!s) m.series.set(k, (s = { labels, buckets: m.bounds.map(() => 0), sum: 0, count: 0 }));
          for (let i = 0; i < m.bounds.length; i++) if (value <= m.bounds[i]!) s.buckets[i]!++;
          s.sum += value;
          s.count++;
        },
      };
    },
    render() {
      const out: string[] = [];
      for (const [name, m] of metrics) {
        out.push(`# HELP ${name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${m.kind === "gauge" && m.type ? m.type : m.kind}`);
        if (m.kind === "histogram") {
          for (const s of m.series.values()) {
            m.bounds.forEach((b, i) => out.push(`${name}_bucket${fmt({ ...s.labels, le: String(b) })} ${s.buckets[i]}`));
            out.push(`${name}_bucket${fmt({ ...s.labels, le: "+Inf" })} ${s.count}`);
            out.push(`${name}_sum${fmt(s.labels)} ${num(s.sum)}`, `${name}_count${fmt(s.labels)} ${s.count}`);
          }
        } else if (m.kind === "gauge" && m.collect) {
          for (const [v, labels] of m.collect()) out.push(`${name}${fmt(labels ?? {})} ${num(v)}`);
        } else {
          for (const s of m.series.values()) out.push(`${name}${fmt(s.labels)} ${num(s.value)}`);
        }
      }
      return out.join("\n") + "\n";
    },
  };
}

/**
 * The series of a set of labels, whatever their order. Counted on every
 * ingested message (several times), so without the JSON and the sort the
 * common cases (no labels, one label) do not need.
 */
function seriesKey(labels: Labels): string {
  let first: string | undefined;
  for (const name in labels) {
    if (first !== undefined) {
      return (
        Object.keys(labels)
          .sort()
          .map((l) => l + "\u0000" + labels[l])
          .join("\u0001") + "\u0001"
      );
    }
    first = name;
  }
  return first === undefined ? "" : first + "\u0000" + labels[first];
}

/** Sample values as Prometheus spells them: +Inf, -Inf and NaN, not JavaScript's Infinity. */
function num(v: number): string {
  return v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);
}

function fmt(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return "{" + entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",") + "}";
}
