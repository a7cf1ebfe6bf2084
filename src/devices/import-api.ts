// POST /api/v1/devices/import: a CSV file (text/csv body or a multipart
// "file" field), all or nothing; ?dry_run=true checks without writing.
import { createRoute } from "@hono/zod-openapi";
import { ctxFrom } from "../auth/middleware.ts";
import { apiRouter, errorResponses, z } from "../http/openapi.ts";
import { AppError } from "../lib/errors.ts";
import type { DeviceDeps } from "./deps.ts";
import { IMPORT_COLUMNS, importDevices } from "./import.ts";

const ReportSchema = z
  .object({
    ok: z.boolean(),
    dry_run: z.boolean(),
    created: z.number().int(),
    rows: z.array(z.object({ line: z.number().int(), device_id: z.string(), ok: z.boolean(), errors: z.array(z.string()) })),
    credentials_csv: z.string().optional().openapi({ description: "device_id,provision_token for every new device: the only copy of the tokens" }),
  })
  .openapi("DeviceImportReport");

export function importApi(deps: DeviceDeps) {
  const api = apiRouter();
  api.openapi(
    createRoute({
      method: "post",
      path: "/devices/import",
      tags: ["Devices"],
      summary: "Import devices from CSV (tenant-admin), all or nothing",
      description: `Header required; columns ${IMPORT_COLUMNS.join(",")} (device_id and site_id required; tags as k=v;k2=v2). Every row is checked first; if any fails nothing is written and ok is false.`,
      request: {
        query: z.object({ dry_run: z.enum(["true", "false"]).optional() }),
        body: {
          content: {
            "text/csv": { schema: z.string() },
            "multipart/form-data": { schema: z.object({ file: z.any().openapi({ type: "string", format: "binary" }) }) },
          },
        },
      },
      responses: { 200: { description: "The report; ok says whether the devices were created", content: { "application/json": { schema: ReportSchema } } }, ...errorResponses(400, 401, 403, 413) },
    }),
    async (c) => {
      const type = c.req.header("content-type") ?? "";
      let text: string;
      if (type.startsWith("multipart/form-data")) {
        const form = await c.req.parseBody();
        const file = form.file;
        if (file instanceof File) text = await file.text();
        else if (typeof file === "string") text = file;
        else throw new AppError("validation_failed", "file: send the CSV as the multipart field 'file'", { field: "file" });
      } else text = await c.req.text();
      const report = await importDevices(deps, ctxFrom(c), text, { dryRun: c.req.valid("query").dry_run === "true" });
      c.header("Cache-Control", "no-store");
      return c.json(
        {
          ok: report.ok,
          dry_run: report.dryRun,
          created: report.created,
          rows: report.rows.map((r) => ({ line: r.line, device_id: r.deviceId, ok: r.ok, errors: r.errors })),
          ...(report.credentialsCsv ? { credentials_csv: report.credentialsCsv } : {}),
        },
        200,
      );
    },
  );
  return api;
}
