// The HTTP side of Pulse: one hono app with the shared middleware, health and
// metrics endpoints, the v1 API (with its generated OpenAPI document), static
// assets and the web pages; and the Bun.serve listener that runs it.

import { Hono } from "hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { listenError } from "../lib/listen.ts";
import type { Assets } from "../../web/assets.ts";
import type { HttpEnv } from "./env.ts";
import { errorHandler, notFoundHandler, type HtmlErrorPage } from "./errors.ts";
import { healthRoutes, type ReadinessCheck } from "./health.ts";
import { requestContext } from "./middleware/request-context.ts";
import { securityHeaders } from "./middleware/security-headers.ts";
import { API_INFO } from "./openapi.ts";

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  trustProxy: boolean;
  https: boolean;
  readiness: Record<string, ReadinessCheck>;
  /** Routers mounted under /api/v1, by path prefix. */
  api: Array<[string, OpenAPIHono<HttpEnv>]>;
  /** Web pages (and their own routes) mounted at the root. */
  web: Hono<HttpEnv>;
  assets: Assets;
  errorPage: HtmlErrorPage;
}

export function buildHttpApp(deps: HttpAppDeps): { app: Hono<HttpEnv>; openapi: () => unknown } {
  const app = new Hono<HttpEnv>();
  app.use(requestContext({ log: deps.log, metrics: deps.metrics, trustProxy: deps.trustProxy }));
  app.use(securityHeaders({ https: deps.https }));
  app.onError(errorHandler(deps.errorPage));
  app.notFound(notFoundHandler(deps.errorPage));

  app.route("/", healthRoutes(deps.readiness));
  app.get("/metrics", (c) => c.text(deps.metrics.render(), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }));

  app.get("/assets/*", (c) => {
    const asset = deps.assets.get(c.req.path);
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "public, max-age=31536000, immutable" });
  });

  const v1 = new OpenAPIHono<HttpEnv>();
  for (const [prefix, router] of deps.api) v1.route(prefix, router);
  const openapi = () => v1.getOpenAPI31Document(API_INFO);
  v1.get("/openapi.json", (c) => c.json(openapi()));
  app.route("/api/v1", v1);

  app.route("/", deps.web);
  return { app, openapi };
}

export interface HttpListener {
  port: number;
  /** Stop accepting connections; in-flight requests finish. */
  stop(): Promise<void>;
}

export function listenHttp(app: Hono<HttpEnv>, opts: { host: string; port: number; maxBodyBytes: number; log: Logger }): HttpListener {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: opts.host,
      port: opts.port,
      maxRequestBodySize: opts.maxBodyBytes,
      // Long-lived SSE streams must not be cut by the idle timeout; they send keep-alives.
      idleTimeout: 120,
      fetch: (req, srv) => app.fetch(req, srv),
    });
  } catch (err) {
    throw listenError(err, opts.host, opts.port, "http.port");
  }
  opts.log.info("http: listening", { host: opts.host, port: server.port });
  return {
    port: server.port!,
    stop: async () => {
      await server.stop(false);
    },
  };
}
