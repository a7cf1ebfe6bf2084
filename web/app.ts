// The web UI's router: every page module mounted at the root, sharing the
// layout environment (assets, which areas exist in this build). Pages need a
// signed-in person; the sign-in flow, invites and password resets do not.

import { Hono } from "hono";
import type { AlertBus } from "../src/alerts/bus.ts";
import type { Auth } from "../src/auth/index.ts";
import type { DeviceDeps } from "../src/devices/deps.ts";
import { csrfToken } from "../src/auth/sessions/service.ts";
import type { HttpEnv } from "../src/http/env.ts";
import type { NotifyDeps } from "../src/notify/service.ts";
import type { Status } from "../src/system/service.ts";
import type { Assets } from "./assets.ts";
import type { PageEnv } from "./components/page.ts";
import { accountPages, tenantChoices } from "./pages/account.ts";
import { alertRulePages } from "./pages/alert-rules.ts";
import { alertPages } from "./pages/alerts.ts";
import { apiDocsPages } from "./pages/api-docs.ts";
import { developerPages } from "./pages/apikeys.ts";
import { devicePages } from "./pages/devices.ts";
import { escalationPages } from "./pages/escalation.ts";
import { auditPages } from "./pages/audit.ts";
import { authPages } from "./pages/auth.ts";
import { errorPage } from "./pages/errors.ts";
import { fleetPages } from "./pages/fleet.ts";
import { identityProviderPages } from "./pages/identity-providers.ts";
import { invitePages } from "./pages/invites.ts";
import { maintenancePages } from "./pages/maintenance.ts";
import { metricPages } from "./pages/metrics.ts";
import { notificationPages } from "./pages/notifications.ts";
import { oncallPages } from "./pages/oncall.ts";
import { quarantinePages } from "./pages/quarantine.ts";
import { sitePages } from "./pages/sites.ts";
import { tenantPages } from "./pages/tenants.ts";
import { userPages } from "./pages/users.ts";

export interface WebDeps {
  assets: Assets;
  status: () => Promise<Status>;
  openapi: () => unknown;
  auth: Auth;
  /** Alert actions from pages go out on the same bus as the API's (notifications, live views). */
  alerts: { bus: AlertBus; onError: (err: unknown) => void };
  /** Messages per second lately, for one tenant or (null) all (the fleet overview). */
  ingestRate?: (tenantId: string | null) => number;
  /** The device registry's dependencies (a change reaches this node's ingest cache at once) and the MQTT port devices connect to. */
  devices?: { deps: DeviceDeps; mqttPort: () => number };
  /** Notification channels, routing rules and deliveries (test sends go out through the same transports as the outbox's). */
  notify?: NotifyDeps;
}

// Reachable without signing in.
const PUBLIC_PAGES = /^\/(login|logout|oauth\/|auth\/|\.well-known\/|invite\/|reset-password\/|forgot-password|api-docs|healthz|readyz|metrics$|assets\/|api\/)/;

export function buildWeb(deps: WebDeps) {
  const env: PageEnv = { assets: deps.assets, available: new Set(["fleet", "api", "users", "tenants", "audit", "developer", "identity-providers", "alerts", "alert-rules", "maintenance", "devices", "sites", "quarantine", "metrics", "oncall", ...(deps.notify ? ["notifications", "escalation"] : [])]) };
  const web = new Hono<HttpEnv>();
  web.route("/", authPages(deps.auth, deps.assets));
  web.use("*", async (c, next) => {
    const p = c.get("principal");
    if (p?.sessionIdHash) c.set("csrf", await csrfToken(deps.auth.sessions, p.sessionIdHash));
    if (PUBLIC_PAGES.test(c.req.path)) return next();
    if (!p || p.via !== "session") {
      if (c.req.method !== "GET") return c.text("sign in first", 401);
      return c.redirect(`/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
    }
    if (p.mustChangePassword && !c.req.path.startsWith("/account")) return c.redirect("/account/password?required=1", 303);
    // The top bar's tenant switcher needs the person's choices on every page.
    if (c.req.method === "GET") c.set("tenantChoices", await tenantChoices(deps.auth, p));
    return next();
  });
  web.route("/", invitePages(deps.auth, deps.assets));
  web.route("/", accountPages(env, deps.auth));
  web.route("/", userPages(env, deps.auth));
  web.route("/", tenantPages(env, deps.auth));
  web.route("/", auditPages(env, deps.auth));
  web.route("/", developerPages(env, deps.auth));
  web.route("/", identityProviderPages(env, deps.auth));
  web.route("/", fleetPages(env, deps));
  web.route("/", alertPages(env, { auth: deps.auth, bus: deps.alerts.bus, onError: deps.alerts.onError }));
  web.route("/", alertRulePages(env, deps.auth));
  web.route("/", maintenancePages(env, deps.auth));
  const devices = { auth: deps.auth, devices: deps.devices?.deps ?? { db: deps.auth.db, clock: deps.auth.clock }, mqttPort: deps.devices?.mqttPort ?? (() => 0) };
  web.route("/", devicePages(env, devices));
  web.route("/", sitePages(env, devices));
  web.route("/", quarantinePages(env, deps.auth));
  web.route("/", metricPages(env, deps.auth));
  if (deps.notify) web.route("/", notificationPages(env, { auth: deps.auth, notify: deps.notify }));
  web.route("/", oncallPages(env, { auth: deps.auth }));
  if (deps.notify) web.route("/", escalationPages(env, { auth: deps.auth, notify: deps.notify }));
  web.route("/", apiDocsPages(env, deps));
  return { web, errorPage: errorPage(env) };
}
