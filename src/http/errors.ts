// The one error handler: AppError and HTTPException become their status with
// `{"error": {"code", "message", "field"?}}` for API clients, or an HTML error
// page for people; anything else is a 500 that names the request id and is
// logged with its cause, never shown.

import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, type ErrorCode } from "../lib/errors.ts";
import type { HttpEnv } from "./env.ts";

export interface ErrorBody {
  error: { code: string; message: string; field?: string; request_id?: string };
}

export type HtmlErrorPage = (c: Context<HttpEnv>, status: number, title: string, message: string) => Response | Promise<Response>;

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  429: "rate_limited",
  503: "unavailable",
};

/** Whether the client wants JSON: API and ingest paths always, others by Accept. */
export function wantsJson(c: Context): boolean {
  const p = c.req.path;
  if (p.startsWith("/api/") || p.startsWith("/ingest/")) return true;
  const accept = c.req.header("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

export function jsonError(c: Context, status: number, code: string, message: string, field?: string): Response {
  const body: ErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  const requestId = c.get("requestId") as string | undefined;
  if (requestId) body.error.request_id = requestId;
  return c.json(body, status as 400);
}

export function errorHandler(htmlPage: HtmlErrorPage): ErrorHandler<HttpEnv> {
  return (err, c) => {
    let status = 500;
    let code: string = "internal";
    let message = "internal error";
    let field: string | undefined;
    if (err instanceof AppError) {
      status = err.status;
      code = err.code;
      message = err.message;
      field = err.field;
      if (err.retryAfterSeconds !== undefined) c.header("Retry-After", String(Math.ceil(err.retryAfterSeconds)));
    } else if (err instanceof HTTPException) {
      status = err.status;
      code = CODE_FOR_STATUS[status] ?? "error";
      message = err.message || code.replaceAll("_", " ");
      if (err.res) for (const [k, v] of err.res.headers) if (k.toLowerCase() === "retry-after") c.header(k, v);
    } else if (isBodyTooLarge(err)) {
      status = 413;
      code = "payload_too_large";
      message = "request body too large";
    }
    if (status >= 500) {
      c.get("log")?.error("request failed", { error: err, path: c.req.path });
      message = `internal error (request id ${c.get("requestId") ?? "unknown"})`;
    }
    if (wantsJson(c)) return jsonError(c, status, code, message, field);
    return htmlPage(c, status, status >= 500 ? "Something went wrong" : message, message);
  };
}

export function notFoundHandler(htmlPage: HtmlErrorPage): NotFoundHandler<HttpEnv> {
  return (c) => {
    if (wantsJson(c)) return jsonError(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
    return htmlPage(c, 404, "Page not found", `There is nothing at ${c.req.path}.`);
  };
}

function isBodyTooLarge(err: unknown): boolean {
  return err instanceof Error && /body.*too large|payload too large/i.test(err.message);
}
