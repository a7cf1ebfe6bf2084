// REST API conventions, shared by every resource under /api/v1:
// JSON in and out; errors as {"error": {"code", "message", "field"?}};
// lists as {"items": [...], "next_cursor": string | null} with ?limit and
// ?cursor; validators written with zod, from which the OpenAPI 3.1 document at
// /api/v1/openapi.json is generated, so the document cannot drift.

import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Hook } from "@hono/zod-openapi";
import { AppError } from "../lib/errors.ts";
import type { HttpEnv } from "./env.ts";
import { jsonError } from "./errors.ts";

export { z };

/** Validation failures answer 400 naming the first bad field. */
const validationHook: Hook<unknown, HttpEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || undefined;
  const message = issue ? `${field ? field + ": " : ""}${issue.message}` : "invalid request";
  return jsonError(c, 400, "validation_failed", message, field);
};

/** A router for one resource; mount it on the v1 API. */
export function apiRouter(): OpenAPIHono<HttpEnv> {
  return new OpenAPIHono<HttpEnv>({ defaultHook: validationHook as never });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      field: z.string().optional(),
      request_id: z.string().optional(),
    }),
  })
  .openapi("Error");

/** Standard error responses to spread into a route's `responses`. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 429 | 503>) {
  const desc: Record<number, string> = {
    400: "Invalid request; `field` names the problem",
    401: "Missing or invalid credentials",
    403: "Not allowed for this role",
    404: "Not found (or not yours)",
    409: "Conflicts with existing state",
    413: "Body too large",
    429: "Rate limited; see Retry-After",
    503: "Temporarily unavailable; see Retry-After",
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: desc[s]!, content: { "application/json": { schema: ErrorSchema } } }]));
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: "Items per page (1–500)." }),
  cursor: z.string().max(500).optional().openapi({ description: "Opaque cursor from a previous page's next_cursor." }),
});

/** `{items, next_cursor}` for an item schema. */
export function pageOf<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

/** Cursors are opaque to clients: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor<T>(cursor: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (cursor === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new AppError("validation_failed", "cursor: not a cursor this API issued", { field: "cursor" });
  }
  if (!check(v)) throw new AppError("validation_failed", "cursor: not a cursor this API issued", { field: "cursor" });
  return v;
}

export const API_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Pulse API",
    version: "1",
    description:
      "Fleet operations API. Authenticate with `Authorization: Bearer <access token or API key>`. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`; lists are paginated with `limit` and `cursor`.",
  },
};
