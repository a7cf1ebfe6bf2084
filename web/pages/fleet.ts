// Fleet overview: the first page people see. Until devices and alerts land it
// shows what is real today: the server's health and the platform's counts.

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Status } from "../../src/system/service.ts";
import { humanDuration } from "../components/format.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html } from "../render.ts";

export function fleetPages(env: PageEnv, deps: { status: () => Promise<Status> }): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/", async (c) => {
    const s = await deps.status();
    return renderPage(
      c,
      env,
      { title: "Fleet overview", active: "fleet" },
      html`<h1>Fleet overview</h1>
        <section class="kpis" aria-label="Platform">
          <div class="card kpi"><div class="kpi-value" data-kpi="tenants">${s.counts.tenants}</div><div class="kpi-label">Tenants</div></div>
          <div class="card kpi"><div class="kpi-value" data-kpi="users">${s.counts.users}</div><div class="kpi-label">Users</div></div>
          <div class="card kpi"><div class="kpi-value">${s.uptimeSeconds === null ? "—" : humanDuration(s.uptimeSeconds)}</div><div class="kpi-label">Uptime</div></div>
        </section>
        <div class="empty">
          <p><strong>No devices yet.</strong></p>
          <p>Devices appear here once they are registered and start sending telemetry.</p>
        </div>
        <h2>Server</h2>
        <dl class="facts card">
          <dt>Version</dt><dd>${s.version} <span class="muted">(${s.commit})</span></dd>
          <dt>Database</dt><dd>${s.database.kind === "pglite" ? "Embedded (PGlite)" : "PostgreSQL"} ${s.database.serverVersion}</dd>
          <dt>Telemetry storage</dt><dd>${s.database.telemetry === "hypertable" ? "TimescaleDB hypertable" : "Native daily partitions"}</dd>
          <dt>Schema</dt><dd>migration ${s.database.migration}</dd>
        </dl>`,
    );
  });
  return app;
}
