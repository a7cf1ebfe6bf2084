// Reading telemetry: downsampled series for charts (at most ~1000 points a
// series, bucketed on the server), the latest values, raw exports as CSV or
// JSON, and the metric catalog with normalized metrics (raw × multiplier +
// offset, applied at read time so stored data never changes).

import { RULES_CHANNEL } from "../alerts/engine.ts";
import { notifyChange } from "../db/bus.ts";
import type { Db } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { invalid, notFound } from "../lib/errors.ts";
import { bucketSeries, deviceExists, findCatalog, latestState, listCatalog, metricNamesInRange, rawRows, updateCatalog, type CatalogRow } from "./store.ts";

export interface TelemetryDeps {
  db: Db;
}

const METRIC = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const MAX_POINTS = 1000;
const MAX_RANGE_MS = 400 * 86_400_000;
const MAX_METRICS = 10;
// Bucket sizes people recognise on an axis.
const NICE_BUCKETS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

export interface SeriesQuery {
  from: Date;
  to: Date;
  metrics: string[];
  /** Seconds per bucket; undefined = chosen for ≤1000 points. */
  bucketSeconds?: number;
  normalized?: boolean;
}

export interface Series {
  metric: string;
  kind: CatalogRow["kind"] | "unknown";
  unit: string | null;
  displayName: string | null;
  normalized: boolean;
  /** [bucket start, avg, min, max, count] for numbers; [bucket start, last value, count] otherwise. */
  points: Array<[string, number | null, number | null, number | null, number] | [string, unknown, number]>;
}

/** The bucket that keeps a range within MAX_POINTS, rounded up to a nice size. */
export function autoBucket(from: Date, to: Date): number {
  const raw = Math.ceil((to.getTime() - from.getTime()) / 1000 / MAX_POINTS);
  return NICE_BUCKETS.find((b) => b >= raw) ?? Math.ceil(raw / 86400) * 86400;
}

function checkRange(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime())) throw invalid("from", "from: not a time");
  if (Number.isNaN(to.getTime())) throw invalid("to", "to: not a time");
  if (to <= from) throw invalid("to", "to: must be after from");
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw invalid("from", "from: ranges are at most 400 days");
}

async function requireDevice(deps: TelemetryDeps, ctx: Ctx, deviceId: string): Promise<void> {
  if (!(await withTenant(deps.db, ctx, (tx) => deviceExists(tx, ctx.tenantId, deviceId)))) throw notFound(`device ${deviceId}`);
}

const normalize = (v: number | null, c: CatalogRow | undefined) => (v === null || !c || c.multiplier === null ? v : v * c.multiplier + (c.offset ?? 0));

/** Downsampled series of one device's metrics over a range. */
export async function querySeries(deps: TelemetryDeps, ctx: Ctx, deviceId: string, q: SeriesQuery): Promise<{ bucketSeconds: number; series: Series[] }> {
  requirePermission(ctx, "read", "read telemetry");
  checkRange(q.from, q.to);
  if (q.metrics.length === 0 || q.metrics.length > MAX_METRICS) throw invalid("metric", `metric: give 1 to ${MAX_METRICS} metric names`);
  for (const m of q.metrics) if (!METRIC.test(m)) throw invalid("metric", `metric: "${m.slice(0, 80)}" is not a metric name`);
  const bucketSeconds = q.bucketSeconds ?? autoBucket(q.from, q.to);
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) throw invalid("bucket", "bucket: whole seconds, at least 1");
  if ((q.to.getTime() - q.from.getTime()) / 1000 / bucketSeconds > 20 * MAX_POINTS) throw invalid("bucket", `bucket: too small for this range (at most ${20 * MAX_POINTS} points)`);
  await requireDevice(deps, ctx, deviceId);
  return withTenant(deps.db, ctx, async (tx) => {
    const catalog = new Map((await findCatalog(tx, ctx.tenantId, q.metrics)).map((c) => [c.name, c]));
    const series: Series[] = [];
    for (const metric of q.metrics) {
      const c = catalog.get(metric);
      const rows = await bucketSeries(tx, { tenantId: ctx.tenantId, deviceId, metric, from: q.from, to: q.to, bucketSeconds });
      const numeric = c ? c.kind === "number" : rows.some((r) => r.avg !== null);
      const norm = q.normalized === true && numeric && c?.multiplier != null;
      series.push({
        metric,
        kind: c?.kind ?? (numeric ? "number" : "unknown"),
        unit: norm ? (c?.normalized_unit ?? c?.unit ?? null) : (c?.unit ?? null),
        displayName: c?.display_name ?? null,
        normalized: norm,
        points: rows.map((r) =>
          numeric
            ? ([r.bucket.toISOString(), norm ? normalize(r.avg, c) : r.avg, norm ? normalize(r.min, c) : r.min, norm ? normalize(r.max, c) : r.max, r.n] as [string, number | null, number | null, number | null, number])
            : ([r.bucket.toISOString(), r.last, r.n] as [string, unknown, number]),
        ),
      });
    }
    return { bucketSeconds, series };
  });
}

export interface LatestValue {
  metric: string;
  value: unknown;
  unit: string | null;
  normalized?: number;
  normalizedUnit?: string | null;
}

/** The last value of every metric the device has sent, with when it was last seen. */
export async function latestValues(deps: TelemetryDeps, ctx: Ctx, deviceId: string): Promise<{ lastSeenAt: Date | null; lastTelemetryAt: Date | null; values: LatestValue[] }> {
  requirePermission(ctx, "read", "read telemetry");
  await requireDevice(deps, ctx, deviceId);
  return withTenant(deps.db, ctx, async (tx) => {
    const st = await latestState(tx, ctx.tenantId, deviceId);
    const names = Object.keys(st?.last_metrics ?? {}).sort();
    const catalog = new Map((names.length ? await findCatalog(tx, ctx.tenantId, names) : []).map((c) => [c.name, c]));
    return {
      lastSeenAt: st?.last_seen_at ?? null,
      lastTelemetryAt: st?.last_telemetry_at ?? null,
      values: names.map((metric) => {
        const value = st!.last_metrics[metric];
        const c = catalog.get(metric);
        const v: LatestValue = { metric, value, unit: c?.unit ?? null };
        if (typeof value === "number" && c?.multiplier != null) {
          v.normalized = normalize(value, c)!;
          v.normalizedUnit = c.normalized_unit;
        }
        return v;
      }),
    };
  });
}

const EXPORT_PAGE = 5000;
const EXPORT_MAX_ROWS = 2_000_000;

/** Raw telemetry as CSV (a column per metric) or JSON lines, produced page by page. */
export async function* exportTelemetry(deps: TelemetryDeps, ctx: Ctx, deviceId: string, q: { from: Date; to: Date; format: "csv" | "json" }): AsyncGenerator<string> {
  requirePermission(ctx, "read", "export telemetry");
  checkRange(q.from, q.to);
  await requireDevice(deps, ctx, deviceId);
  const range = { tenantId: ctx.tenantId, deviceId, from: q.from, to: q.to };
  const names = q.format === "csv" ? await withTenant(deps.db, ctx, (tx) => metricNamesInRange(tx, range)) : [];
  if (q.format === "csv") yield ["time", ...names].map(csvCell).join(",") + "\r\n";
  let since: Date | undefined;
  let skip = 0;
  let total = 0;
  for (;;) {
    const rows = await withTenant(deps.db, ctx, (tx) => rawRows(tx, { ...range, since, skip, limit: EXPORT_PAGE }));
    if (!rows.length) return;
    let out = "";
    for (const r of rows) {
      out +=
        q.format === "csv"
          ? [r.time.toISOString(), ...names.map((n) => r.metrics[n])].map(csvCell).join(",") + "\r\n"
          : JSON.stringify({ time: r.time.toISOString(), device_id: deviceId, metrics: r.metrics }) + "\n";
    }
    yield out;
    total += rows.length;
    // The next page starts at the last timestamp, skipping the rows at it already sent.
    const last = rows.at(-1)!.time.getTime();
    const atLast = rows.filter((r) => r.time.getTime() === last).length;
    skip = since && since.getTime() === last ? skip + atLast : atLast;
    since = rows.at(-1)!.time;
    if (rows.length < EXPORT_PAGE || total >= EXPORT_MAX_ROWS) return;
  }
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return "";
  const s = String(v);
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === "string" ? "'" + s : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The tenant's metrics: kind, unit, display name, normalization, first and last seen. */
export async function listMetrics(deps: TelemetryDeps, ctx: Ctx): Promise<CatalogRow[]> {
  requirePermission(ctx, "read", "see metrics");
  return withTenant(deps.db, ctx, (tx) => listCatalog(tx));
}

/** Set a metric's unit, display name or normalization (tenant-admin). */
export async function updateMetric(
  deps: TelemetryDeps,
  ctx: Ctx,
  name: string,
  input: { unit?: unknown; displayName?: unknown; multiplier?: unknown; offset?: unknown; normalizedUnit?: unknown },
): Promise<CatalogRow> {
  requirePermission(ctx, "admin", "change metrics");
  const text = (field: string, v: unknown, max: number) => {
    if (v === null || v === "") return null;
    if (typeof v !== "string" || v.length > max) throw invalid(field, `${field}: text of at most ${max} characters`);
    return v;
  };
  const num = (field: string, v: unknown) => {
    if (v === null || v === "") return null;
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n)) throw invalid(field, `${field}: a finite number`);
    return n;
  };
  const patch: Parameters<typeof updateCatalog>[3] = {};
  if (input.unit !== undefined) patch.unit = text("unit", input.unit, 32);
  if (input.displayName !== undefined) patch.display_name = text("display_name", input.displayName, 100);
  if (input.multiplier !== undefined) patch.multiplier = num("multiplier", input.multiplier);
  if (input.offset !== undefined) patch.offset = num("offset", input.offset);
  if (input.normalizedUnit !== undefined) patch.normalized_unit = text("normalized_unit", input.normalizedUnit, 32);
  return withTenant(deps.db, ctx, async (tx) => {
    const [current] = await findCatalog(tx, ctx.tenantId, [name]);
    if (!current) throw notFound(`metric ${name}`);
    if (current.kind !== "number" && (patch.multiplier != null || patch.offset != null)) throw invalid("multiplier", `multiplier: only numeric metrics can be normalized (${name} is ${current.kind})`);
    if (patch.multiplier === 0) throw invalid("multiplier", "multiplier: must not be 0");
    // Normalized alert rules compare with these: every node's engine reloads them.
    if (patch.multiplier !== undefined || patch.offset !== undefined) await notifyChange(tx, RULES_CHANNEL, ctx.tenantId);
    return (await updateCatalog(tx, ctx.tenantId, name, patch))!;
  });
}
