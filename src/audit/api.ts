// /api/v1/audit-log: the audit trail, newest first; CSV export for auditors.
import { createRoute } from "@hono/zod-openapi";
import type { Auth } from "../auth/index.ts";
import { callerFrom } from "../auth/middleware.ts";
import { apiRouter, decodeCursor, encodeCursor, errorResponses, pageOf, z } from "../http/openapi.ts";
import { invalid } from "../lib/errors.ts";
import { auditCsv, listAuditLog } from "./service.ts";
import type { AuditFilter, AuditRow } from "./store.ts";

const EntrySchema = z
  .object({
    id: z.number(),
    time: z.string(),
    tenant_id: z.string().nullable(),
    actor_kind: z.string(),
    actor_name: z.string(),
    action: z.string(),
    target_kind: z.string().nullable(),
    target_id: z.string().nullable(),
    ip: z.string().nullable(),
    request_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("AuditEntry");

const Query = z.object({
  action: z.string().max(100).optional().openapi({ description: "Action prefix, e.g. auth. or user.role_changed" }),
  actor: z.string().max(200).optional(),
  tenant: z.string().max(64).optional().openapi({ description: "Operators: only this tenant" }),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export function filterFromQuery(q: z.infer<typeof Query>): AuditFilter {
  const before = decodeCursor(q.cursor, (v): v is number => Number.isInteger(v));
  const from = q.from ? new Date(q.from) : undefined;
  const to = q.to ? new Date(q.to) : undefined;
  if (from && to && from >= to) throw invalid("from", "from: must be before to");
  return { action: q.action, actor: q.actor, tenantId: q.tenant, from, to, beforeId: before, limit: q.limit };
}

const json = (r: AuditRow) => ({
  id: r.id,
  time: r.time.toISOString(),
  tenant_id: r.tenant_id,
  actor_kind: r.actor_kind,
  actor_name: r.actor_name,
  action: r.action,
  target_kind: r.target_kind,
  target_id: r.target_id,
  ip: r.ip,
  request_id: r.request_id,
  details: r.details,
});

export function auditApi(auth: Auth) {
  const api = apiRouter();
  const deps = { db: auth.db, clock: auth.clock };
  api.openapi(
    createRoute({
      method: "get",
      path: "/audit-log",
      tags: ["Audit"],
      summary: "Audit log entries visible to you (tenant-admins: their tenant; operators: all)",
      request: { query: Query },
      responses: { 200: { description: "Entries", content: { "application/json": { schema: pageOf(EntrySchema) } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const filter = filterFromQuery(c.req.valid("query"));
      const rows = await listAuditLog(deps, callerFrom(c), filter);
      const last = rows.at(-1);
      return c.json({ items: rows.map(json), next_cursor: rows.length === filter.limit && last ? encodeCursor(last.id) : null }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: "get",
      path: "/audit-log.csv",
      tags: ["Audit"],
      summary: "The same entries as CSV (up to 100,000)",
      request: { query: Query.omit({ limit: true, cursor: true }) },
      responses: { 200: { description: "CSV", content: { "text/csv": { schema: z.string() } } }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const rows = await listAuditLog(deps, callerFrom(c), { ...filterFromQuery({ ...c.req.valid("query"), limit: 1 }), limit: 100_000 });
      c.header("Content-Disposition", `attachment; filename="pulse-audit-${new Date().toISOString().slice(0, 10)}.csv"`);
      return c.body(auditCsv(rows), 200, { "Content-Type": "text/csv; charset=utf-8" });
    },
  );
  return api;
}
