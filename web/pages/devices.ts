// The device pages: the list with its preview pane, one device's page with
// its tabs and actions, the provisioning wizard and the CSV import. The
// paths that are words (/devices/new, /devices/import) are mounted before
// /devices/:id so they are never read as a device id.

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import type { PageEnv } from "../components/page.ts";
import type { DevicePageDeps } from "./devices-common.ts";
import { loadDevice, overviewTab, telemetryTab } from "./devices-detail.ts";
import { deviceImportPages } from "./devices-import.ts";
import { devicesListPage } from "./devices-list.ts";
import { deviceManagePages } from "./devices-manage.ts";
import { deviceWizardPages } from "./devices-wizard.ts";

export type { DevicePageDeps } from "./devices-common.ts";

export function devicePages(env: PageEnv, deps: DevicePageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/devices", (c) => devicesListPage(c, env, deps));
  app.route("/", deviceWizardPages(env, deps));
  app.route("/", deviceImportPages(env, deps));
  app.get("/devices/:id", async (c) => {
    const v = await loadDevice(c, env, deps);
    return v instanceof Response ? v : overviewTab(c, env, deps, v);
  });
  app.get("/devices/:id/telemetry", async (c) => {
    const v = await loadDevice(c, env, deps);
    return v instanceof Response ? v : telemetryTab(c, env, deps, v);
  });
  app.route("/", deviceManagePages(env, deps));
  return app;
}
