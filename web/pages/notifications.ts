// The Notifications area: where alerts go once they open, change and close.
// Four views under one set of tabs — channels (notifications-channels.ts),
// routing rules (notifications-routes.ts), the delivery log and the dead
// letters (notifications-deliveries.ts). Tenant-admins manage; customers and
// operators read the same pages without the buttons.

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import type { PageEnv } from "../components/page.ts";
import { channelPages } from "./notifications-channels.ts";
import type { NotifyPageDeps } from "./notifications-common.ts";
import { deliveryPages } from "./notifications-deliveries.ts";
import { routePages } from "./notifications-routes.ts";

export function notificationPages(env: PageEnv, deps: NotifyPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.route("/", channelPages(env, deps));
  app.route("/", routePages(env, deps));
  app.route("/", deliveryPages(env, deps));
  return app;
}
