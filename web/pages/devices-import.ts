// CSV import of devices. Choosing a file shows every row in the browser with
// its problems (the csv-preview island checks ids, duplicates, sites, numbers
// and the device limit from data in the page) before anything is written.
// "Import" posts the file; the server checks it all again and writes all or
// nothing (importDevices), then shows the per-row report, a report CSV and —
// once, in this answer only — the credentials CSV. Without JavaScript,
// "Check" runs the server's dry run and shows the same report.

import { Hono, type Context } from "hono";
import { callerFrom, ctxFrom } from "../../src/auth/middleware.ts";
import { csvCell } from "../../src/devices/csv.ts";
import { IMPORT_COLUMNS, MAX_IMPORT_ROWS, importDevices, type ImportReport } from "../../src/devices/import.ts";
import { listDevices } from "../../src/devices/service.ts";
import { HEARTBEAT_MAX, HEARTBEAT_MIN } from "../../src/devices/validate.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { listSites } from "../../src/sites/service.ts";
import { getTenant } from "../../src/tenants/service.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { CsrfField, sentence } from "../components/form.ts";
import { formatCount } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { scriptJson } from "../components/timeseries.ts";
import { html, type VNode } from "../render.ts";
import { chooseTenantPage, type DevicePageDeps } from "./devices-common.ts";

export const CSV_PREVIEW_ISLAND = "islands/csv-preview.js";
const OK_ROWS_SHOWN = 500;
/** A one-row example, at one of the tenant's own sites. */
const example = (site: string) => `device_id,name,site_id,tags,heartbeat_seconds,model,serial,lat,lng,parent_device_id\r\nfridge-101,Fridge 101,${site},zone=cold;line=3,60,PX-200,SN-0101,52.52,13.405,\r\n`;

/** What the preview island checks against: embedded in the page, never fetched. */
export interface PreviewData {
  columns: readonly string[];
  required: readonly string[];
  sites: string[];
  limit: number | null;
  live: number;
  maxRows: number;
  heartbeat: { min: number; max: number };
}

export function deviceImportPages(env: PageEnv, deps: DevicePageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();

  app.get("/devices/import", async (c) => {
    const gate = guard(c);
    if (gate) return gate;
    return importPage(c);
  });

  app.post("/devices/import", async (c) => {
    const gate = guard(c);
    if (gate) return gate;
    const ctx = ctxFrom(c);
    const body = await c.req.parseBody();
    const file = body.file;
    const text = file instanceof File ? await file.text() : typeof file === "string" ? file : "";
    const name = file instanceof File && file.name ? file.name : "devices.csv";
    const dryRun = body.mode !== "import";
    if (!text.trim()) return importPage(c, "Choose a CSV file first.", 400);
    let report: ImportReport;
    try {
      report = await importDevices(deps.devices, ctx, text, { dryRun });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return importPage(c, sentence(err.message.replace(/^csv: /, "")), 400);
    }
    // The credentials exist only in this answer.
    c.header("Cache-Control", "no-store");
    return renderPage(
      c,
      env,
      { title: "Import devices", active: "devices" },
      html`${PageHeader({ title: "Import devices", description: html`From <strong>${name}</strong>.` })} ${ReportView(report, name)}`,
    );
  });

  function guard(c: Context<HttpEnv>): Response | undefined {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Import devices", active: "devices", what: "Devices" });
    if (!can(caller, "admin"))
      return renderPage(
        c,
        env,
        { title: "Import devices", active: "devices", status: 403 },
        html`${PageHeader({ title: "Import devices" })}${EmptyState({ title: "Only tenant-admins import devices", body: `Your role (${caller.role}) may see devices but not register them.`, actions: [{ label: "Devices", href: "/devices" }] })}`,
      );
    return undefined;
  }

  async function previewData(ctx: Ctx): Promise<PreviewData> {
    const count = (status: "ACTIVE" | "PENDING") => listDevices(deps.devices, ctx, { status, limit: 1 }).then((l) => l.total);
    const [sites, tenant, active, pending] = await Promise.all([listSites(deps.devices, ctx, { limit: 10_000 }), getTenant(deps.devices, ctx, ctx.tenantId), count("ACTIVE"), count("PENDING")]);
    return {
      columns: IMPORT_COLUMNS,
      required: ["device_id", "site_id"],
      sites: sites.map((s) => s.id),
      limit: tenant.deviceLimit,
      live: active + pending,
      maxRows: MAX_IMPORT_ROWS,
      heartbeat: { min: HEARTBEAT_MIN, max: HEARTBEAT_MAX },
    };
  }

  async function importPage(c: Context<HttpEnv>, error?: string, status = 200): Promise<Response> {
    const ctx = ctxFrom(c);
    const data = await previewData(ctx);
    const room = data.limit === null ? null : Math.max(0, data.limit - data.live);
    return renderPage(
      c,
      env,
      { title: "Import devices", active: "devices", islands: [CSV_PREVIEW_ISLAND], status },
      html`${PageHeader({
          title: "Import devices",
          description: "Register many devices from a CSV file, all or nothing: if any row has a problem, nothing is written.",
          actions: html`<a class="btn" href="/devices/new">Add one device</a>`,
        })}
        <div class="columns wide-first">
          <section class="card" aria-labelledby="upload-title">
            <h2 id="upload-title">Choose a file</h2>
            <form method="post" action="/devices/import" enctype="multipart/form-data" class="form" data-csv-form>
              ${CsrfField(c)}
              <div class=${"field" + (error ? " field-invalid" : "")}>
                <label for="import-file">CSV file</label>
                <input id="import-file" name="file" type="file" accept=".csv,text/csv" required aria-invalid=${error ? "true" : undefined} aria-describedby=${error ? "import-file-err" : "import-file-hint"} />
                ${error
                  ? html`<div class="field-error" id="import-file-err" role="alert">${error}</div>`
                  : html`<div class="hint" id="import-file-hint">
                      ${room === null ? "No device limit." : `Room for ${formatCount(room)} more device${room === 1 ? "" : "s"} (limit ${formatCount(data.limit!)}).`} At most ${formatCount(MAX_IMPORT_ROWS)} rows.
                    </div>`}
              </div>
              <div class="actions">
                <button class="btn btn-primary" type="submit" name="mode" value="import" data-import-button>Import</button>
                <button class="btn" type="submit" name="mode" value="check">Check without importing</button>
              </div>
            </form>
            <div class="csv-preview" data-csv-preview hidden aria-live="polite"></div>
            <script type="application/json" data-csv-preview-data dangerouslySetInnerHTML=${{ __html: scriptJson(data) }}></script>
          </section>
          <section class="card" aria-labelledby="format-title">
            <h2 id="format-title">The format</h2>
            <p>A header line naming the columns, then one device per line. <code>device_id</code> and <code>site_id</code> are required; the rest may be left out.</p>
            <dl class="kv small">
              <dt><code>device_id</code></dt>
              <dd>letters, digits, <code>.</code> <code>_</code> <code>-</code>; unique</dd>
              <dt><code>site_id</code></dt>
              <dd>an existing site: ${data.sites.length ? data.sites.slice(0, 8).map((s, i) => html`${i ? ", " : ""}<code>${s}</code>`) : html`<a href="/sites">create one first</a>`}${data.sites.length > 8 ? " …" : ""}</dd>
              <dt><code>tags</code></dt>
              <dd><code>key=value;key2=value2</code></dd>
              <dt><code>heartbeat_seconds</code></dt>
              <dd>${HEARTBEAT_MIN}–${HEARTBEAT_MAX}; empty for the tenant's default</dd>
              <dt><code>lat</code>, <code>lng</code></dt>
              <dd>both or neither</dd>
              <dt><code>parent_device_id</code></dt>
              <dd>a gateway: an existing device or one in the file</dd>
            </dl>
            <pre class="example">${example(data.sites[0] ?? "lab-1")}</pre>
            <p><a href=${dataUrl(example(data.sites[0] ?? "lab-1"))} download="devices-example.csv">Download this example</a></p>
          </section>
        </div>`,
    );
  }

  return app;
}

function dataUrl(csv: string): string {
  return `data:text/csv;charset=utf-8;base64,${Buffer.from(csv, "utf8").toString("base64")}`;
}

function reportCsv(report: ImportReport): string {
  const lines = [["line", "device_id", "ok", "problems"], ...report.rows.map((r) => [String(r.line), r.deviceId, r.ok ? "yes" : "no", r.errors.join("; ")])];
  return lines.map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function ReportView(report: ImportReport, name: string): VNode {
  const bad = report.rows.filter((r) => !r.ok);
  const good = report.rows.filter((r) => r.ok);
  const shown = [...bad, ...good.slice(0, OK_ROWS_SHOWN)].sort((a, b) => a.line - b.line);
  const stem = name.replace(/\.csv$/i, "");
  let summary: VNode;
  if (!report.ok)
    summary = html`<div class="flash flash-error" role="alert" data-import-result="failed">
      ${formatCount(bad.length)} of ${formatCount(report.rows.length)} row${report.rows.length === 1 ? " has" : "s have"} problems${report.dryRun ? "" : ", so nothing was imported"}. Fix them and try
      again.
    </div>`;
  else if (report.dryRun)
    summary = html`<div class="flash flash-ok" role="status" data-import-result="checked">All ${formatCount(report.rows.length)} rows are fine. Nothing is written yet: choose the file again and press Import.</div>`;
  else summary = html`<div class="flash flash-ok" role="status" data-import-result="imported">${formatCount(report.created)} devices imported. Each has its first provision token, in the credentials file below.</div>`;

  return html`<section class="card" data-import-report>
    ${summary}
    ${report.credentialsCsv
      ? html`<div class="secret" data-secret="credentials">
          <div class="secret-label">Credentials of the ${formatCount(report.created)} new devices</div>
          <p><a class="btn btn-primary" href=${dataUrl(report.credentialsCsv)} download=${`${stem}-credentials.csv`} data-credentials-download>Download credentials CSV</a></p>
          <p class="secret-warning" role="note">
            Download it now: it holds each device's provision token (<code>device_id,provision_token</code>) and this page is the only time Pulse shows them. Only hashes are stored; a
            lost token is rotated on the device's page.
          </p>
        </div>`
      : null}
    <p>
      <a class="btn btn-sm" href=${dataUrl(reportCsv(report))} download=${`${stem}-report.csv`} data-report-download>Download the report (CSV)</a>
      ${report.ok && !report.dryRun ? html`<a class="btn btn-sm" href="/devices">See the devices</a>` : html`<a class="btn btn-sm" href="/devices/import">Choose another file</a>`}
    </p>
    <table class="data" data-table="Import report" aria-label="Import report">
      <thead>
        <tr>
          <th scope="col" class="num">Line</th>
          <th scope="col">Device</th>
          <th scope="col">Result</th>
          <th scope="col">Problems</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (r) => html`<tr data-line=${r.line} data-row-ok=${r.ok ? "yes" : "no"}>
            <td class="num">${r.line}</td>
            <td class="mono">${r.deviceId || html`<span class="muted">—</span>`}</td>
            <td>${r.ok ? Badge({ tone: "ok", text: report.dryRun || !report.ok ? "OK" : "CREATED", icon: "check" }) : Badge({ tone: "bad", text: "ERROR", icon: "dash" })}</td>
            <td>${r.errors.length ? html`<ul class="plain-list">${r.errors.map((e) => html`<li>${e}</li>`)}</ul>` : null}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${good.length > OK_ROWS_SHOWN ? html`<p class="muted small">${formatCount(good.length - OK_ROWS_SHOWN)} more rows are fine; the report CSV lists every row.</p>` : null}
  </section>`;
}
