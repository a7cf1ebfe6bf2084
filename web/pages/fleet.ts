// Fleet overview: the first page people see. Until devices and alerts land it
// shows only what is real today: the server's uptime, an empty device list
// that says how to get devices in, and, for operators, the platform's counts
// and the server's facts (tenant users do not learn how many other tenants
// or users share the server).

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Status } from "../../src/system/service.ts";
import { EmptyState } from "../components/empty.ts";
import { formatCount, humanDuration } from "../components/format.ts";
import { KpiCard, KpiStrip } from "../components/kpi.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

export function fleetPages(env: PageEnv, deps: { status: () => Promise<Status> }): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/", async (c) => {
    const s = await deps.status();
    const devicesLive = env.available.has("devices");
    const operator = Boolean(c.get("principal")?.platformRole);
    const uptime = KpiCard({
      label: "Uptime",
      name: "uptime",
      value: s.uptimeSeconds === null ? "—" : humanDuration(s.uptimeSeconds),
      hint: `Pulse ${s.version}`,
    });
    return renderPage(
      c,
      env,
      { title: "Fleet overview", active: "fleet" },
      html`${PageHeader({ title: "Fleet overview", description: "What is connected, what is wrong, and how this server is doing." })}
        ${KpiStrip({
          label: "Platform",
          children: operator
            ? [
                KpiCard({ label: "Tenants", name: "tenants", value: formatCount(s.counts.tenants), hint: "active and suspended" }),
                KpiCard({ label: "Users", name: "users", value: formatCount(s.counts.users), hint: "people who can sign in" }),
                uptime,
              ]
            : [uptime],
        })}
        <section aria-labelledby="devices-title">
          <div class="section-head"><h2 id="devices-title">Devices</h2></div>
          ${EmptyState({
            icon: "devices",
            title: "No devices yet",
            body: html`Add one, import a CSV, or run <code>pulse simulate</code> to watch a simulated fleet. Devices show here once they send their first heartbeat.`,
            actions: [
              { label: "Add a device", href: devicesLive ? "/devices/new" : undefined, primary: true },
              { label: "Import a CSV", href: devicesLive ? "/devices/import" : undefined },
            ],
          })}
        </section>
        ${operator ? ServerFacts(s) : null}`,
    );
  });
  return app;
}

function ServerFacts(s: Status): VNode {
  return html`<section aria-labelledby="server-title">
    <div class="section-head"><h2 id="server-title">Server</h2></div>
    <dl class="facts card" data-facts="server">
      <dt>Version</dt>
      <dd>${s.version} <span class="muted">(${s.commit})</span></dd>
      <dt>Database</dt>
      <dd>${s.database.kind === "pglite" ? "Embedded (PGlite)" : "PostgreSQL"} ${s.database.serverVersion}</dd>
      <dt>Telemetry storage</dt>
      <dd>${s.database.telemetry === "hypertable" ? "TimescaleDB hypertable" : "Native daily partitions"}</dd>
      <dt>Schema</dt>
      <dd>migration ${s.database.migration}</dd>
    </dl>
  </section>`;
}
