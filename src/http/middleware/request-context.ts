// Every request gets an id (taken from X-Request-Id when sane, else new), a
// logger that carries it, and one access log line with status and duration.
// It also feeds the HTTP counters on /metrics, labelled by route pattern so
// ids in paths do not explode the number of series.

import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { getConnInfo } from "hono/bun";
import type { Context } from "hono";
import type { Logger } from "../../lib/logger.ts";
import type { Metrics } from "../../lib/metrics.ts";
import type { HttpEnv } from "../env.ts";

const SANE_ID = /^[A-Za-z0-9._-]{8,64}$/;
// Polled or high-rate endpoints log at debug so they do not drown the rest.
const QUIET = /^\/(healthz|readyz|metrics|ingest\/|static\/|assets\/)/;

export function requestContext(opts: { log: Logger; metrics: Metrics; trustProxy: boolean }): MiddlewareHandler<HttpEnv> {
  const requests = opts.metrics.counter("pulse_http_requests_total", "HTTP requests by method, route and status.");
  const duration = opts.metrics.histogram("pulse_http_request_duration_seconds", "HTTP request duration by route.");
  return async (c, next) => {
    const started = performance.now();
    const given = c.req.header("x-request-id");
    const requestId = given && SANE_ID.test(given) ? given : crypto.randomUUID();
    // The proxy appends the address it saw: the last entry is the one a client cannot forge.
    const forwarded = opts.trustProxy ? c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim() : undefined;
    const ip = forwarded || peerAddress(c) || "unknown";
    const log = opts.log.child({ request_id: requestId });
    c.set("requestId", requestId);
    c.set("log", log);
    c.set("ip", ip);
    await next();
    c.header("X-Request-Id", requestId);
    const route = routePath(c) || "unmatched";
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    requests.inc({ method: c.req.method, route, status: String(status) });
    duration.observe(seconds, { route });
    const line = { method: c.req.method, path: c.req.path, status, ms: Math.round(seconds * 10000) / 10, ip };
    if (QUIET.test(c.req.path) && status < 500) log.debug("http", line);
    else log.info("http", line);
  };
}

/** The socket peer; Bun hands hono the server as env. app.request() in tests has none. */
function peerAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
