// The shared UI components, rendered to strings: tables keep the URL's state
// in every link, badges always carry their word, times have an absolute
// title, durations read like people write them, charts stay inside the CSP,
// and the theme's colour pairs pass WCAG AA in both themes.

import { describe, expect, test } from "bun:test";
import { renderToString } from "preact-render-to-string";
import css from "../../web/static/app.css" with { type: "text" };
import { Badge, SEVERITIES, STATUSES, SeverityBadge, StatusBadge } from "../../web/components/badges.ts";
import { Gauge, Sparkline, gaugeTone } from "../../web/components/charts.ts";
import { EmptyState } from "../../web/components/empty.ts";
import { Duration, RelativeTime, absoluteTime, formatBytes, formatCount, formatValue, humanDuration, relativeTime } from "../../web/components/format.ts";
import { KpiCard } from "../../web/components/kpi.ts";
import { DataTable, FilterBar, Pagination, parseSort, withQuery, type Column } from "../../web/components/table.ts";
import type { VNode } from "../../web/render.ts";

const render = (v: VNode) => renderToString(v);

/** Every href in the markup, decoded, in order. */
function hrefs(markup: string): string[] {
  return [...markup.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
}

function query(href: string): Record<string, string> {
  return Object.fromEntries(new URL(href, "http://x").searchParams);
}

interface Device {
  id: string;
  name: string;
  status: "ONLINE" | "STALE" | "OFFLINE";
  messages: number;
}

const columns: Column<Device>[] = [
  { key: "name", label: "Name", sort: true, cell: (d) => d.name },
  { key: "status", label: "Status", sort: true, cell: (d) => StatusBadge({ status: d.status }) },
  { key: "messages", label: "Messages", sort: "desc", numeric: true, cell: (d) => formatCount(d.messages) },
  { key: "id", label: "ID", cell: (d) => d.id },
];
const rows: Device[] = [
  { id: "pump-1", name: "Pump 1", status: "ONLINE", messages: 12480 },
  { id: "pump-2", name: "Pump 2", status: "OFFLINE", messages: 3 },
];
const empty = { title: "No devices yet", body: "Add one, import a CSV, or run pulse simulate." };

describe("DataTable", () => {
  const url = "http://pulse.test/devices?status=OFFLINE&q=pump&sort=name&dir=asc&cursor=abc";

  test("sort links keep the filters, drop the page, and flip the current column's direction", () => {
    const html = render(DataTable({ label: "Devices", columns, rows, url, sort: { key: "name", dir: "asc" }, empty }));
    const sorts = hrefs(html).filter((h) => h.includes("sort="));
    expect(sorts).toHaveLength(3);
    for (const h of sorts) {
      const q = query(h);
      expect(q.status).toBe("OFFLINE");
      expect(q.q).toBe("pump");
      expect(q.cursor).toBeUndefined();
      expect(h.startsWith("/devices?")).toBe(true);
    }
    expect(query(sorts[0]!)).toMatchObject({ sort: "name", dir: "desc" });
    expect(query(sorts[1]!)).toMatchObject({ sort: "status", dir: "asc" });
    // Counts sort biggest first on the first click.
    expect(query(sorts[2]!)).toMatchObject({ sort: "messages", dir: "desc" });
    expect(html).toContain('aria-sort="ascending"');
    expect(html.match(/aria-sort=/g)).toHaveLength(1);
    // The unsortable column is a plain header.
    expect(html).toContain('<th scope="col">ID</th>');
  });

  test("rows link to their page from the first column, and numbers align right", () => {
    const html = render(DataTable({ label: "Devices", columns, rows, url, rowHref: (d) => `/devices/${d.id}`, empty }));
    expect(html).toContain('<a class="row-anchor" href="/devices/pump-1">Pump 1</a>');
    expect(html).toContain('<a class="row-anchor" href="/devices/pump-2">Pump 2</a>');
    expect(html.match(/class="row-link"/g)).toHaveLength(2);
    expect(html).toContain('<td class="num">12,480</td>');
    expect(html).toContain("<thead>");
  });

  test("an empty list shows its empty state with the next step", () => {
    const html = render(DataTable({ label: "Devices", columns, rows: [], url: "/devices", empty: { ...empty, actions: [{ label: "Add a device", href: "/devices/new" }] } }));
    expect(html).not.toContain("<table");
    expect(html).toContain("No devices yet");
    expect(html).toContain("run pulse simulate");
    expect(hrefs(html)).toEqual(["/devices/new"]);
  });

  test("an empty filtered list offers to clear the filters but keeps the sort", () => {
    const html = render(DataTable({ label: "Devices", columns, rows: [], url, filters: ["status", "q"], empty }));
    expect(html).toContain("No devices match these filters");
    expect(html).not.toContain("No devices yet");
    const [clear] = hrefs(html);
    expect(clear).toBe("/devices?sort=name&dir=asc");
  });

  test("pagination links keep filters and sort", () => {
    const html = render(Pagination({ url, prev: { cursor: null }, next: { cursor: "xyz" }, summary: "51–100 of 1,204" }));
    const [prev, next] = hrefs(html);
    expect(query(prev!)).toEqual({ status: "OFFLINE", q: "pump", sort: "name", dir: "asc" });
    expect(query(next!)).toEqual({ status: "OFFLINE", q: "pump", sort: "name", dir: "asc", cursor: "xyz" });
    expect(html).toContain('rel="next"');
    expect(html).toContain("51–100 of 1,204");
  });

  test("without a next page the link is not a link", () => {
    const html = render(Pagination({ url, prev: { cursor: null }, next: null }));
    expect(hrefs(html)).toHaveLength(1);
    expect(html).toContain('aria-disabled="true"');
  });

  test("the filter bar is a GET form that keeps the sort and marks the search box for `/`", () => {
    const html = render(
      FilterBar({
        url,
        search: { label: "Search devices" },
        selects: [{ name: "status", label: "Status", options: [{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s }))] }],
      }),
    );
    expect(html).toContain('method="get"');
    expect(html).toContain('action="/devices"');
    expect(html).toMatch(/<input type="search" name="q" value="pump"[^>]*data-search/);
    expect(html).toContain('<option value="OFFLINE" selected>OFFLINE</option>');
    expect(html).toContain('<input type="hidden" name="sort" value="name"/>');
    expect(html).toContain('<input type="hidden" name="dir" value="asc"/>');
    expect(html).not.toContain('name="cursor"');
    // Clear removes the filters, not the sort.
    expect(hrefs(html)).toEqual(["/devices?sort=name&dir=asc"]);
  });

  test("parseSort accepts only sortable columns and falls back otherwise", () => {
    const fallback = { key: "name", dir: "asc" } as const;
    expect(parseSort("/d?sort=messages", columns, fallback)).toEqual({ key: "messages", dir: "desc" });
    expect(parseSort("/d?sort=status&dir=desc", columns, fallback)).toEqual({ key: "status", dir: "desc" });
    expect(parseSort("/d?sort=status&dir=sideways", columns, fallback)).toEqual({ key: "status", dir: "asc" });
    expect(parseSort("/d?sort=id", columns, fallback)).toEqual(fallback);
    expect(parseSort("/d?sort=name;drop table", columns, fallback)).toEqual(fallback);
  });

  test("withQuery sets, removes, and drops empty parameters", () => {
    expect(withQuery("/devices?q=&status=OFFLINE&page=3", { page: null, sort: "name" })).toBe("/devices?status=OFFLINE&sort=name");
    expect(withQuery("/devices?q=", {})).toBe("/devices");
    expect(withQuery(new URL("http://h/a b?x=1&y=2"), { x: "two words" })).toBe("/a%20b?x=two+words&y=2");
  });
});

describe("badges", () => {
  test("every status carries its word, its icon and its class", () => {
    for (const s of STATUSES) {
      const html = render(StatusBadge({ status: s }));
      expect(html).toContain(`>${s}</span>`);
      expect(html).toContain(`class="badge status-${s.toLowerCase()}"`);
      expect(html).toMatch(/<svg class="icon"[^>]*aria-hidden="true"/);
    }
    // Different shapes, not only different colours.
    const shapes = new Set(STATUSES.map((s) => render(StatusBadge({ status: s })).replace(/.*?(<svg.*<\/svg>).*/, "$1")));
    expect(shapes.size).toBe(STATUSES.length);
  });

  test("every severity carries its word, its icon and its class", () => {
    for (const s of SEVERITIES) {
      const html = render(SeverityBadge({ severity: s, title: "raised 3 min ago" }));
      expect(html).toContain(`>${s}</span>`);
      expect(html).toContain(`class="badge sev-${s.toLowerCase()}"`);
      expect(html).toContain('title="raised 3 min ago"');
      expect(html).toContain("<svg");
    }
    const shapes = new Set(SEVERITIES.map((s) => render(SeverityBadge({ severity: s })).replace(/.*?(<svg.*<\/svg>).*/, "$1")));
    expect(shapes.size).toBe(SEVERITIES.length);
  });

  test("a generic badge shows its word in a shared tone", () => {
    expect(render(Badge({ tone: "warn", text: "SUSPENDED" }))).toBe('<span class="badge tone-warn">SUSPENDED</span>');
  });
});

describe("times and numbers", () => {
  const now = new Date("2025-11-27T09:30:00Z");

  test("humanDuration reads like people write it", () => {
    expect(humanDuration(0)).toBe("0 s");
    expect(humanDuration(59.4)).toBe("59 s");
    expect(humanDuration(60)).toBe("1 min");
    expect(humanDuration(3599)).toBe("59 min");
    expect(humanDuration(3600)).toBe("1 h");
    expect(humanDuration(2 * 3600 + 14 * 60 + 5)).toBe("2 h 14 min");
    expect(humanDuration(86400)).toBe("1 d");
    expect(humanDuration(3 * 86400 + 4 * 3600 + 59 * 60)).toBe("3 d 4 h");
    expect(humanDuration(-5)).toBe("0 s");
  });

  test("relative times show the absolute time in the tenant's zone on hover", () => {
    const t = new Date("2025-11-27T09:27:00Z");
    const html = render(RelativeTime({ t, now, timeZone: "Europe/Berlin" }));
    expect(html).toBe(`<time datetime="2025-11-27T09:27:00.000Z" title="${absoluteTime(t, "Europe/Berlin")}">3 min ago</time>`);
    expect(absoluteTime(t, "Europe/Berlin")).toContain("10:27:00");
    expect(absoluteTime(t, "Europe/Berlin")).toMatch(/CET|GMT\+1/);
    expect(absoluteTime(t)).toBe("27 Nov 2025, 09:27:00 UTC");
    expect(render(RelativeTime({ t, now }))).toContain("UTC");
  });

  test("relative times in the past, the future and right now", () => {
    expect(relativeTime(new Date(now.getTime() - 2000), now)).toBe("just now");
    expect(relativeTime(new Date(now.getTime() - 2 * 3600e3 - 14 * 60e3), now)).toBe("2 h 14 min ago");
    expect(relativeTime(new Date(now.getTime() + 90e3), now)).toBe("in 1 min");
  });

  test("durations are machine-readable too", () => {
    expect(render(Duration({ seconds: 8040 }))).toBe('<time datetime="PT8040S">2 h 14 min</time>');
  });

  test("numbers", () => {
    expect(formatCount(12480)).toBe("12,480");
    expect(formatValue(21.456, "°C")).toBe("21.5 °C");
    expect(formatValue(3.14159, "V")).toBe("3.14 V");
    expect(formatValue(87.25, "%")).toBe("87.3%");
    expect(formatValue(1234.5)).toBe("1,235");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3.4 * 1024 * 1024)).toBe("3.4 MiB");
  });
});

describe("empty state and KPI", () => {
  test("an empty state links only to pages that exist", () => {
    const html = render(
      EmptyState({
        title: "No devices yet",
        body: "Add one, import a CSV, or run pulse simulate.",
        actions: [{ label: "Add a device", href: "/devices/new", primary: true }, { label: "Import a CSV" }],
      }),
    );
    expect(hrefs(html)).toEqual(["/devices/new"]);
    expect(html).not.toContain("Import a CSV</a>");
    expect(html).toContain("Add one, import a CSV, or run pulse simulate.");
  });

  test("a KPI card names its value for tests and live counters", () => {
    const html = render(KpiCard({ label: "Devices offline", name: "offline", value: "12", tone: "bad", href: "/devices?status=OFFLINE" }));
    expect(html).toContain('data-kpi="offline"');
    expect(html).toContain('class="card kpi kpi-bad"');
    expect(html).toContain('<a class="kpi-label" href="/devices?status=OFFLINE">Devices offline</a>');
  });
});

describe("charts", () => {
  test("a sparkline draws gaps as gaps and says what it shows", () => {
    const html = render(Sparkline({ values: [1, 2, null, 4, 3], label: "Temperature, last hour", unit: "°C" }));
    const line = html.match(/class="spark-line" d="([^"]+)"/)![1]!;
    expect(line.match(/M/g)).toHaveLength(2);
    expect(html).toContain('role="img"');
    expect(html).toContain('aria-label="Temperature, last hour: latest 3 °C, range 1 °C to 4 °C"');
    expect(html).toContain("<title>");
  });

  test("a sparkline with no data says so", () => {
    const html = render(Sparkline({ values: [null, null], label: "Battery" }));
    expect(html).toContain('aria-label="Battery: no data"');
    expect(html).not.toContain("spark-line");
  });

  test("a gauge takes its tone from the thresholds, either way round", () => {
    expect(gaugeTone({ value: 50, warn: 70, crit: 90 })).toBe("ok");
    expect(gaugeTone({ value: 75, warn: 70, crit: 90 })).toBe("warn");
    expect(gaugeTone({ value: 95, warn: 70, crit: 90 })).toBe("bad");
    expect(gaugeTone({ value: 15, warn: 30, crit: 10, lowerIsWorse: true })).toBe("warn");
    expect(gaugeTone({ value: 5, warn: 30, crit: 10, lowerIsWorse: true })).toBe("bad");
    expect(gaugeTone({ value: null, warn: 30 })).toBe("idle");
    const html = render(Gauge({ value: 95, label: "CPU", unit: "%", warn: 70, crit: 90 }));
    expect(html).toContain('class="gauge tone-bad"');
    expect(html).toContain('aria-label="CPU: 95% (critical)"');
    expect(html.match(/class="gauge-tick"/g)).toHaveLength(2);
    expect(render(Gauge({ value: null, label: "CPU" }))).toContain('aria-label="CPU: no data"');
  });

  test("no component writes inline styles (the CSP forbids them)", () => {
    const all = [
      Sparkline({ values: [1, 5, 2], label: "x" }),
      Gauge({ value: 40, label: "y", warn: 50 }),
      DataTable({ label: "Devices", columns, rows, url: "/devices", rowHref: (d) => `/devices/${d.id}`, empty }),
      FilterBar({ url: "/devices", search: { label: "Search" } }),
      ...STATUSES.map((status) => StatusBadge({ status })),
      ...SEVERITIES.map((severity) => SeverityBadge({ severity })),
    ].map(render);
    for (const html of all) expect(html).not.toMatch(/\sstyle=/);
  });
});

describe("theme contrast (WCAG AA, 4.5:1 for text)", () => {
  // Tokens are `--name: light-dark(#light, #dark)` in app.css.
  const tokens = new Map<string, [string, string]>();
  for (const m of css.matchAll(/--([a-z0-9-]+):\s*light-dark\(\s*(#[0-9a-f]{6})\s*,\s*(#[0-9a-f]{6})\s*\)/gi)) tokens.set(m[1]!, [m[2]!, m[3]!]);

  function luminance(hex: string): number {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  }
  function contrast(a: string, b: string): number {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi! + 0.05) / (lo! + 0.05);
  }

  // What is drawn on what: badges, tones, navigation, buttons, text.
  const pairs: Array<[string, string]> = [
    ["text", "bg"], ["text", "surface"], ["text", "surface-2"],
    ["text-muted", "bg"], ["text-muted", "surface"], ["text-muted", "surface-2"],
    ["link", "bg"], ["link", "surface"], ["link", "surface-2"],
    ["accent-strong", "accent-bg"], ["accent-text", "accent"],
    ["ok", "ok-bg"], ["warn", "warn-bg"], ["bad", "bad-bg"], ["idle", "idle-bg"],
    ["ok", "surface"], ["warn", "surface"], ["bad", "surface"], ["bad", "surface-2"], ["ok", "surface-2"],
    ["sev-critical-on", "sev-critical"], ["sev-high", "sev-high-bg"], ["sev-medium", "sev-medium-bg"], ["sev-low", "sev-low-bg"], ["sev-info", "sev-info-bg"],
  ];

  test("every token a pair uses is defined for both themes", () => {
    for (const [fg, bg] of pairs) {
      expect(tokens.has(fg)).toBe(true);
      expect(tokens.has(bg)).toBe(true);
    }
  });

  for (const [i, themeName] of ["light", "dark"].entries()) {
    test(`${themeName} theme`, () => {
      const failing = pairs
        .map(([fg, bg]) => ({ pair: `--${fg} on --${bg}`, ratio: contrast(tokens.get(fg)![i as 0 | 1], tokens.get(bg)![i as 0 | 1]) }))
        .filter((p) => p.ratio < 4.5)
        .map((p) => `${p.pair}: ${p.ratio.toFixed(2)}`);
      expect(failing).toEqual([]);
    });
  }
});
