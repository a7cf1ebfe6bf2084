// The web UI's router: every page module mounted at the root, sharing the
// layout environment (assets, which areas exist in this build).

import { Hono } from "hono";
import type { HttpEnv } from "../src/http/env.ts";
import type { Status } from "../src/system/service.ts";
import type { Assets } from "./assets.ts";
import type { PageEnv } from "./components/page.ts";
import { apiDocsPages } from "./pages/api-docs.ts";
import { errorPage } from "./pages/errors.ts";
import { fleetPages } from "./pages/fleet.ts";

export interface WebDeps {
  assets: Assets;
  status: () => Promise<Status>;
  openapi: () => unknown;
}

export function buildWeb(deps: WebDeps) {
  const env: PageEnv = { assets: deps.assets, available: new Set(["fleet", "api"]) };
  const web = new Hono<HttpEnv>();
  web.route("/", fleetPages(env, deps));
  web.route("/", apiDocsPages(env, deps));
  return { web, errorPage: errorPage(env) };
}
