// /api/v1/version: what this server is, for clients checking compatibility.
import { createRoute } from "@hono/zod-openapi";
import { apiRouter, z } from "../http/openapi.ts";
import { COMMIT, VERSION } from "../lib/version.ts";

const VersionSchema = z.object({ version: z.string(), commit: z.string(), api: z.literal("v1") }).openapi("Version");

export function systemApi() {
  const api = apiRouter();
  api.openapi(
    createRoute({
      method: "get",
      path: "/version",
      tags: ["System"],
      summary: "Server version",
      responses: { 200: { description: "Version of this server", content: { "application/json": { schema: VersionSchema } } } },
    }),
    (c) => c.json({ version: VERSION, commit: COMMIT, api: "v1" as const }),
  );
  return api;
}
