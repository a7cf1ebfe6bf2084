// /api/v1/devices/{device_id}/telemetry (series, latest, export) and
// /api/v1/metrics (the catalog).
import { createRoute } from "@hono/zod-openapi";
import { stream } from "hono/streaming";
import type { Auth } from "../auth/index.ts";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import type { CatalogRow } from "./store.ts";
import { exportTelemetry, latestValues, listMetrics, querySeries, updateMetric } from "./service.ts";

const DeviceParam = z.object({ device_id: z.string().openapi({ param: { name: "device_id", in: "path" }, example: "pump-7" }) });
const Time = z.string().datetime({ offset: true });

const SeriesSchema = z
  .object({
    metric: z.string(),
    kind: z.enum(["number", "boolean", "string", "unknown"]),
    unit: z.string().nullable(),
    display_name: z.string().nullable(),
    normalized: z.boolean(),
    points: z.array(z.array(z.unknown())).openapi({ description: "[bucket, avg, min, max, count] for numbers; [bucket, last value, count] otherwise" }),
  })
  .openapi("TelemetrySeries");

const MetricSchema = z
  .object({
    name: z.string(),
    kind: z.enum(["number", "boolean", "string"]),
    unit: z.string().nullable(),
    display_name: z.string().nullable(),
    multiplier: z.number().nullable(),
    offset: z.number().nullable(),
    normalized_unit: z.string().nullable(),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
  })
  .openapi("Metric");

const metricJson = (c: CatalogRow) => ({
  name: c.name,
  kind: c.kind,
  unit: c.unit,
  display_name: c.display_name,
  multiplier: c.multiplier,
  offset: c.offset,
  normalized_unit: c.normalized_unit,
  first_seen_at: c.first_seen_at.toISOString(),
  last_seen_at: c.last_seen_at.toISOString(),
});

export function telemetryApi(auth: Auth) {
  const api = apiRouter();
  const deps = { db: auth.db };

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices/{device_id}/telemetry",
      tags: ["Telemetry"],
      summary: "A device's metrics over a range, downsampled on the server (≤1000 points a series by default)",
      request: {
        params: DeviceParam,
        query: z.object({
          from: Time,
          to: Time,
          metric: z.union([z.string(), z.array(z.string())]).openapi({ description: "One or more metric names (repeat the parameter)" }),
          bucket: z.coerce.number().int().min(1).optional().openapi({ description: "Seconds per bucket; default chosen for the range" }),
          normalized: z.enum(["true", "false"]).optional(),
        }),
      },
      responses: {
        200: { description: "Series", content: { "application/json": { schema: z.object({ device_id: z.string(), from: z.string(), to: z.string(), bucket_seconds: z.number(), series: z.array(SeriesSchema) }) } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const { device_id } = c.req.valid("param");
      const metrics = Array.isArray(q.metric) ? q.metric : [q.metric];
      const r = await querySeries(deps, ctxFrom(c), device_id, { from: new Date(q.from), to: new Date(q.to), metrics, bucketSeconds: q.bucket, normalized: q.normalized === "true" });
      return c.json(
        {
          device_id,
          from: q.from,
          to: q.to,
          bucket_seconds: r.bucketSeconds,
          series: r.series.map((s) => ({ metric: s.metric, kind: s.kind, unit: s.unit, display_name: s.displayName, normalized: s.normalized, points: s.points })),
        },
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices/{device_id}/telemetry/latest",
      tags: ["Telemetry"],
      summary: "The last value of each metric (from the device's state, not a telemetry scan)",
      request: { params: DeviceParam },
      responses: {
        200: {
          description: "Latest values",
          content: {
            "application/json": {
              schema: z.object({
                device_id: z.string(),
                last_seen_at: z.string().nullable(),
                last_telemetry_at: z.string().nullable(),
                metrics: z.array(z.object({ metric: z.string(), value: z.unknown(), unit: z.string().nullable(), normalized: z.number().optional(), normalized_unit: z.string().nullable().optional() })),
              }),
            },
          },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { device_id } = c.req.valid("param");
      const r = await latestValues(deps, ctxFrom(c), device_id);
      return c.json(
        {
          device_id,
          last_seen_at: r.lastSeenAt?.toISOString() ?? null,
          last_telemetry_at: r.lastTelemetryAt?.toISOString() ?? null,
          metrics: r.values.map((v) => ({ metric: v.metric, value: v.value, unit: v.unit, ...(v.normalized !== undefined ? { normalized: v.normalized, normalized_unit: v.normalizedUnit ?? null } : {}) })),
        },
        200,
      );
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/devices/{device_id}/telemetry/export",
      tags: ["Telemetry"],
      summary: "Raw telemetry for a range as CSV (a column per metric) or JSON lines, streamed",
      request: { params: DeviceParam, query: z.object({ from: Time, to: Time, format: z.enum(["csv", "json"]).default("csv") }) },
      responses: { 200: { description: "The rows", content: { "text/csv": { schema: z.string() }, "application/x-ndjson": { schema: z.string() } } }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const { device_id } = c.req.valid("param");
      const rows = exportTelemetry(deps, ctxFrom(c), device_id, { from: new Date(q.from), to: new Date(q.to), format: q.format });
      // The first chunk is produced before answering, so validation errors become proper 4xx responses.
      const first = await rows.next();
      c.header("Content-Type", q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
      c.header("Content-Disposition", `attachment; filename="${device_id}-${q.from.slice(0, 10)}.${q.format === "csv" ? "csv" : "jsonl"}"`);
      return stream(c, async (s) => {
        if (!first.done) await s.write(first.value);
        for await (const chunk of rows) await s.write(chunk);
      }) as never;
    },
  );

  api.openapi(
    createRoute({ method: "get", path: "/metrics", tags: ["Telemetry"], summary: "Every metric your devices have sent", responses: { 200: { description: "Metrics", content: { "application/json": { schema: z.object({ items: z.array(MetricSchema) }) } } }, ...errorResponses(401) } }),
    async (c) => c.json({ items: (await listMetrics(deps, ctxFrom(c))).map(metricJson) }, 200),
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/metrics/{name}",
      tags: ["Telemetry"],
      summary: "Set a metric's unit, display name or normalization (value × multiplier + offset)",
      request: {
        params: z.object({ name: z.string().openapi({ param: { name: "name", in: "path" } }) }),
        body: {
          content: {
            "application/json": {
              schema: z.object({
                unit: z.string().nullable().optional(),
                display_name: z.string().nullable().optional(),
                multiplier: z.number().nullable().optional(),
                offset: z.number().nullable().optional(),
                normalized_unit: z.string().nullable().optional(),
              }),
            },
          },
        },
      },
      responses: { 200: { description: "Updated", content: { "application/json": { schema: MetricSchema } } }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const b = c.req.valid("json");
      const row = await updateMetric(deps, ctxFrom(c), c.req.valid("param").name, { unit: b.unit, displayName: b.display_name, multiplier: b.multiplier, offset: b.offset, normalizedUnit: b.normalized_unit });
      return c.json(metricJson(row), 200);
    },
  );
  return api;
}
