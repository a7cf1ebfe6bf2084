// The provisioning API's routes (PROTOCOL.md), outside /api/v1 and its
// sign-in: factory tooling sends X-Admin-Key, devices their activation code.
// Off (404) without provisioning.admin_key; served on the HTTP port, or only
// on a listener of its own when provisioning.listen is set.

import { Hono, type Context } from "hono";
import type { Config } from "../config.ts";
import type { HttpEnv } from "../http/env.ts";
import { errorHandler, notFoundHandler } from "../http/errors.ts";
import { requestContext } from "../http/middleware/request-context.ts";
import { securityHeaders } from "../http/middleware/security-headers.ts";
import { AppError } from "../lib/errors.ts";
import { listenError } from "../lib/listen.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { DeviceDeps } from "./deps.ts";
import { activateDevice, checkAdminKey, issueActivationCode, provisionDevice, recordRefusal, type ProvisioningDeps } from "./provisioning.ts";

type C = Context<HttpEnv>;

async function body(c: C): Promise<Record<string, unknown>> {
  const v: unknown = await c.req.json().catch(() => undefined);
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new AppError("bad_request", 'body: must be a JSON object such as {"tenant_id": "…", "device_id": "…"}', { field: "body" });
  return v as Record<string, unknown>;
}

/** The provisioning routes; every call, refused ones too, lands in the audit log. */
export function provisioningRoutes(deps: ProvisioningDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const meta = (c: C) => ({ ip: c.get("ip"), requestId: c.get("requestId") });

  // Refusals are audited here; successes by the services, inside their transactions.
  const audited = (handler: (c: C, claimed: { tenant?: string }) => Promise<Response>) => async (c: C) => {
    const claimed: { tenant?: string } = {};
    try {
      c.header("Cache-Control", "no-store");
      return await handler(c, claimed);
    } catch (err) {
      const e = err instanceof AppError ? err : undefined;
      await recordRefusal(deps, { ...meta(c), path: c.req.path, status: e?.status ?? 500, code: e?.code ?? "internal", message: e?.message ?? "internal error", claimedTenant: claimed.tenant }).catch((auditErr) =>
        c.get("log")?.error("provisioning: refusal not audited", { error: auditErr }),
      );
      throw err;
    }
  };
  const requireKey = (c: C) => {
    if (!checkAdminKey(deps, c.req.header("x-admin-key"))) throw new AppError("unauthorized", "X-Admin-Key is missing or wrong");
  };
  const tenantOf = (b: Record<string, unknown>) => (typeof b.tenant_id === "string" ? b.tenant_id : undefined);

  app.post(
    "/api/admin/devices",
    audited(async (c, claimed) => {
      requireKey(c);
      const b = await body(c);
      claimed.tenant = tenantOf(b);
      const r = await provisionDevice(deps, { tenant_id: b.tenant_id, device_id: b.device_id, site_id: b.site_id }, meta(c));
      return c.json({ device_id: r.deviceId, activation_code: r.activationCode, expires_at: r.expiresAt.toISOString() }, 201);
    }),
  );

  app.post(
    "/api/admin/devices/:device_id/activate-code",
    audited(async (c, claimed) => {
      requireKey(c);
      const b = await body(c);
      claimed.tenant = tenantOf(b);
      const r = await issueActivationCode(deps, { tenant_id: b.tenant_id, device_id: c.req.param("device_id") }, meta(c));
      return c.json({ device_id: r.deviceId, activation_code: r.activationCode, expires_at: r.expiresAt.toISOString() }, 200);
    }),
  );

  app.post(
    "/api/device/activate",
    audited(async (c, claimed) => {
      const b = await body(c);
      claimed.tenant = tenantOf(b);
      const r = await activateDevice(deps, { tenant_id: b.tenant_id, device_id: b.device_id, activation_code: b.activation_code }, meta(c));
      return c.json({ provision_token: r.provisionToken }, 200);
    }),
  );
  return app;
}

export interface Provisioning {
  /** Routes to mount on the main HTTP app: none when the API is off or has a listener of its own. */
  mainRoutes: Hono<HttpEnv>[];
  /** Open the own listener, if configured; returns its port. */
  start(): number | undefined;
  stop(): Promise<void>;
}

/** Wire the provisioning API from config (see the top of this file). */
export function createProvisioning(d: { config: Config; log: Logger; metrics: Metrics; deviceDeps: DeviceDeps }): Provisioning {
  const { config, log } = d;
  const adminKey = config["provisioning.admin_key"];
  const listen = config["provisioning.listen"];
  const routes = adminKey ? provisioningRoutes({ ...d.deviceDeps, adminKey, codeTtlHours: config["provisioning.activation_code_hours"] }) : undefined;
  if (!routes && listen) log.warn("provisioning.listen is set but provisioning.admin_key is not; the provisioning API stays off");
  let server: ReturnType<typeof Bun.serve> | undefined;
  return {
    mainRoutes: routes && !listen ? [routes] : [],
    start() {
      if (!routes || !listen) return undefined;
      const i = listen.lastIndexOf(":");
      const host = listen.slice(0, i).replace(/^\[(.*)\]$/, "$1");
      const port = Number(listen.slice(i + 1));
      const app = new Hono<HttpEnv>();
      app.use(requestContext({ log, metrics: d.metrics, trustProxy: config["http.trust_proxy"] }));
      app.use(securityHeaders({ https: false }));
      const page = (c: C, status: number, _title: string, message: string) => c.json({ error: { code: "error", message } }, status as 400);
      app.onError(errorHandler(page));
      app.notFound(notFoundHandler(page));
      app.route("/", routes);
      try {
        server = Bun.serve({ hostname: host, port, maxRequestBodySize: 64 * 1024, fetch: (req, srv) => app.fetch(req, srv) });
      } catch (err) {
        throw listenError(err, host, port, "provisioning.listen");
      }
      log.info("provisioning: listening", { host, port: server.port });
      return server.port;
    },
    async stop() {
      await server?.stop(false);
      server = undefined;
    },
  };
}
