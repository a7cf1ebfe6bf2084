// The HTTP side of Pulse: one hono app with the shared middleware, health and
// metrics endpoints, the v1 API (with its generated OpenAPI document), static
// assets and the web pages; and the Bun.serve listener that runs it.

import type { Server, WebSocketHandler } from "bun";
import { Hono, type MiddlewareHandler } from "hono";
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

const PUBLIC_API = /^\/api\/v1\/(openapi\.json|version)$/;

/** How long a stop waits for requests in flight before closing what is still open. */
const STOP_GRACE_MS = 1_500;

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  trustProxy: boolean;
  https: boolean;
  readiness: Record<string, ReadinessCheck>;
  /** Run on every request after the shared middleware (authentication). */
  middleware: MiddlewareHandler<HttpEnv>[];
  /** Guards every /api/v1 route but the public ones (the OpenAPI document, version). */
  apiGuard: MiddlewareHandler<HttpEnv>;
  /** Routers mounted under /api/v1, by path prefix. */
  api: Array<[string, OpenAPIHono<HttpEnv>]>;
  /** Non-page routes at the root (the OpenID provider's endpoints). */
  routes: Hono<HttpEnv>[];
  /** Web pages (and their own routes) mounted at the root. */
  web: Hono<HttpEnv>;
  assets: Assets;
  errorPage: HtmlErrorPage;
}

export function buildHttpApp(deps: HttpAppDeps): { app: Hono<HttpEnv>; openapi: () => unknown } {
  const app = new Hono<HttpEnv>();
  app.use(requestContext({ log: deps.log, metrics: deps.metrics, trustProxy: deps.trustProxy }));
  app.use(securityHeaders({ https: deps.https }));
  for (const m of deps.middleware) app.use(m);
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
  v1.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A Pulse access token (from the OpenID provider) or an API key (pulse_…)",
  });
  v1.use("*", async (c, next) => (PUBLIC_API.test(c.req.path) ? next() : deps.apiGuard(c, next)));
  for (const [prefix, router] of deps.api) v1.route(prefix, router);
  const openapi = () => ({ ...v1.getOpenAPI31Document(API_INFO), security: [{ bearer: [] }] });
  v1.get("/openapi.json", (c) => c.json(openapi()));
  app.route("/api/v1", v1);

  for (const r of deps.routes) app.route("/", r);
  app.route("/", deps.web);
  return { app, openapi };
}

export interface HttpListener {
  port: number;
  /** Stop accepting connections; in-flight requests finish. */
  stop(): Promise<void>;
}

export interface WebSocketRoute {
  /** A response when this request was upgraded (or refused); undefined to let the app handle it. */
  upgrade(req: Request, server: Server<any>): Response | undefined;
  handlers: WebSocketHandler<any>;
}

export function listenHttp(app: Hono<HttpEnv>, opts: { host: string; port: number; maxBodyBytes: number; log: Logger; websocket?: WebSocketRoute }): HttpListener {
  let server: ReturnType<typeof Bun.serve>;
  const ws = opts.websocket;
  try {
    const common = {
      hostname: opts.host,
      port: opts.port,
      maxRequestBodySize: opts.maxBodyBytes,
      // Long-lived SSE streams must not be cut by the idle timeout; they send keep-alives.
      idleTimeout: 120,
    };
    server = ws
      ? Bun.serve({ ...common, fetch: (req, srv) => ws.upgrade(req, srv) ?? app.fetch(req, srv), websocket: ws.handlers })
      : Bun.serve({ ...common, fetch: (req, srv) => app.fetch(req, srv) });
  } catch (err) {
    throw listenError(err, opts.host, opts.port, "http.port");
  }
  opts.log.info("http: listening", { host: opts.host, port: server.port });
  return {
    port: server.port!,
    stop: async () => {
      // Requests in flight may finish, but not forever: live views' SSE streams
      // and MQTT-over-WebSocket connections never end on their own, and a
      // graceful stop waits for them (an open browser tab made shutdown overrun
      // its 10 s). After the grace they are cut; browsers and devices reconnect.
      const finished = await Promise.race([server.stop(false).then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]);
      if (!finished) await server.stop(true);
    },
  };
}
