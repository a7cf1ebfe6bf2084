// The metric catalog (at /metrics-catalog; /metrics is Prometheus): every
// metric name the tenant's devices have sent, its kind, unit, display name
// and normalization (raw × multiplier + offset, in the normalized unit,
// applied when read), first and last seen. Tenant-admins edit the unit,
// display name and normalization; a refusal sits next to its field.

import { Hono, type Context } from "hono";
import { callerFrom, ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { Auth } from "../../src/auth/index.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { AppError, notFound } from "../../src/lib/errors.ts";
import type { CatalogRow } from "../../src/telemetry/store.ts";
import { listMetrics, updateMetric } from "../../src/telemetry/service.ts";
import { Badge } from "../components/badges.ts";
import { CsrfField, emptyForm, FormAlert, formError, TextField, type FormState } from "../components/form.ts";
import { formFields } from "../components/form-token.ts";
import { RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, FilterBar, parseSort, type Column, type Sort } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { chooseTenantPage } from "./devices-common.ts";

export const METRICS_PATH = "/metrics-catalog";
const FIELDS = ["unit", "display_name", "multiplier", "offset", "normalized_unit"];

export function metricPages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db };
  const href = (name: string) => `${METRICS_PATH}/${encodeURIComponent(name)}`;

  app.get(METRICS_PATH, async (c) => {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Metrics", active: "metrics", what: "Metrics" });
    const ctx = ctxFrom(c);
    const url = new URL(c.req.url);
    const admin = can(ctx, "admin");
    const zone = await viewerTimeZone(auth, principalOf(c));
    const now = auth.clock.now();
    const q = (url.searchParams.get("q") ?? "").trim().toLowerCase();
    const kind = url.searchParams.get("kind") ?? "";
    const rows = (await listMetrics(deps, ctx)).filter((m) => (!kind || m.kind === kind) && (!q || m.name.toLowerCase().includes(q) || (m.display_name ?? "").toLowerCase().includes(q)));
    const columns: Column<CatalogRow>[] = [
      {
        key: "name",
        label: "Metric",
        sort: true,
        cell: (m) => html`<span class="device-cell"><span class="device-name mono">${m.name}</span>${m.display_name ? html`<span class="muted small">${m.display_name}</span>` : null}</span>`,
      },
      { key: "kind", label: "Kind", sort: true, cell: (m) => Badge({ tone: m.kind === "number" ? "accent" : "idle", text: m.kind }) },
      { key: "unit", label: "Unit", cell: (m) => (m.unit ? m.unit : html`<span class="muted">—</span>`) },
      { key: "normalization", label: "Normalized", cell: (m) => Normalization(m) },
      { key: "first_seen", label: "First seen", sort: "desc", class: "hide-narrow", cell: (m) => RelativeTime({ t: m.first_seen_at, now, timeZone: zone }) },
      { key: "last_seen", label: "Last seen", sort: "desc", cell: (m) => RelativeTime({ t: m.last_seen_at, now, timeZone: zone }) },
      ...(admin ? [{ key: "edit", label: "", cell: (m: CatalogRow) => html`<a class="btn btn-sm" href=${`${href(m.name)}/edit`} aria-label=${`Edit ${m.name}`}>Edit</a>` }] : []),
    ];
    const sort = parseSort(url, columns, { key: "name", dir: "asc" });
    return renderPage(
      c,
      env,
      { title: "Metrics", active: "metrics" },
      html`${PageHeader({
          title: "Metrics",
          description: html`Every metric your devices have sent. A unit and a display name make charts and alerts readable; normalization turns raw readings into real units
            (raw × multiplier + offset) when they are read — stored data never changes.`,
        })}
        ${FilterBar({
          url,
          search: { label: "Search metrics", placeholder: "Search name or display name" },
          selects: [{ name: "kind", label: "Kind", options: [{ value: "", label: "Any" }, { value: "number", label: "number" }, { value: "boolean", label: "boolean" }, { value: "string", label: "string" }] }],
        })}
        ${DataTable({
          label: "Metrics",
          columns,
          rows: sortMetrics(rows, sort),
          url,
          sort,
          rowKey: (m) => m.name,
          filters: ["q", "kind"],
          empty: { title: "No metrics yet", body: "Metrics appear here with the first telemetry that names them. Add a device and send a message, or run `pulse simulate`." },
        })}`,
    );
  });

  app.get(`${METRICS_PATH}/:name/edit`, async (c) => {
    const caller = callerFrom(c);
    if (!caller.tenantId) return chooseTenantPage(c, env, { title: "Metrics", active: "metrics", what: "Metrics" });
    const m = await findMetric(c, c.req.param("name"));
    return editPage(c, m, emptyForm(values(m)));
  });

  app.post(`${METRICS_PATH}/:name`, async (c) => {
    const ctx = ctxFrom(c);
    const name = c.req.param("name");
    const form = await formFields(c);
    try {
      await updateMetric(deps, ctx, name, {
        unit: form.unit?.trim() ?? "",
        displayName: form.display_name?.trim() ?? "",
        multiplier: form.multiplier?.trim() ?? "",
        offset: form.offset?.trim() ?? "",
        normalizedUnit: form.normalized_unit?.trim() ?? "",
      });
    } catch (err) {
      // Not allowed or not there: the error page says so; anything else goes next to its field.
      if (err instanceof AppError && (err.status === 403 || err.status === 404)) throw err;
      const m = await findMetric(c, name);
      return editPage(c, m, formError(err, form, {}, m.kind === "number" ? FIELDS : ["unit", "display_name"]), 400);
    }
    return redirectWithFlash(c, METRICS_PATH, { kind: "ok", text: `${name} saved.` });
  });

  async function findMetric(c: Context<HttpEnv>, name: string): Promise<CatalogRow> {
    const m = (await listMetrics(deps, ctxFrom(c))).find((x) => x.name === name);
    if (!m) throw notFound(`metric ${name}`);
    return m;
  }

  function editPage(c: Context<HttpEnv>, m: CatalogRow, form: FormState, status = 200): Response {
    const numeric = m.kind === "number";
    return renderPage(
      c,
      env,
      { title: `${m.name} · Metrics`, active: "metrics", status },
      html`<nav class="breadcrumbs" aria-label="Breadcrumb"><a href=${METRICS_PATH}>Metrics</a> <span aria-hidden="true">/</span> <span class="mono">${m.name}</span></nav>
        ${PageHeader({ title: m.name, description: html`A ${m.kind} metric.` })}
        <section class="card narrow" aria-labelledby="metric-title">
          <h2 id="metric-title">How it reads</h2>
          <form method="post" action=${href(m.name)} class="form">
            ${CsrfField(c)} ${FormAlert({ form })}
            ${TextField({ name: "display_name", label: "Display name", form, idPrefix: "metric", required: false, autocomplete: "off", placeholder: "Supply temperature" })}
            ${TextField({ name: "unit", label: "Unit", form, idPrefix: "metric", required: false, autocomplete: "off", placeholder: "°C", hint: "As the device sends it." })}
            ${numeric
              ? html`<fieldset class="plain-fieldset">
                  <legend class="label-like">Normalization <span class="optional">optional</span></legend>
                  <p class="hint">Normalized value = raw × multiplier + offset, in the normalized unit. Leave the multiplier empty for none.</p>
                  <div class="inline-fields">
                    ${TextField({ name: "multiplier", label: "Multiplier", form, idPrefix: "metric", required: false, autocomplete: "off", placeholder: "0.1" })}
                    ${TextField({ name: "offset", label: "Offset", form, idPrefix: "metric", required: false, autocomplete: "off", placeholder: "0" })}
                    ${TextField({ name: "normalized_unit", label: "Normalized unit", form, idPrefix: "metric", required: false, autocomplete: "off", placeholder: "kPa" })}
                  </div>
                </fieldset>`
              : html`<p class="muted small">Only numbers can be normalized.</p>`}
            <div class="actions"><button class="btn btn-primary" type="submit">Save</button><a class="btn" href=${METRICS_PATH}>Cancel</a></div>
          </form>
        </section>`,
    );
  }

  return app;
}

function values(m: CatalogRow): Record<string, string> {
  const s = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  return { unit: s(m.unit), display_name: s(m.display_name), multiplier: s(m.multiplier), offset: s(m.offset), normalized_unit: s(m.normalized_unit) };
}

function Normalization(m: CatalogRow): VNode {
  if (m.multiplier === null) return html`<span class="muted">—</span>`;
  const offset = m.offset ? ` ${m.offset < 0 ? "−" : "+"} ${Math.abs(m.offset)}` : "";
  return html`<span class="mono small" data-normalization>× ${m.multiplier}${offset}${m.normalized_unit ? html` → ${m.normalized_unit}` : null}</span>`;
}

function sortMetrics(rows: CatalogRow[], sort: Sort): CatalogRow[] {
  const key: Record<string, (m: CatalogRow) => string | number> = {
    name: (m) => m.name.toLowerCase(),
    kind: (m) => m.kind,
    first_seen: (m) => new Date(m.first_seen_at).getTime(),
    last_seen: (m) => new Date(m.last_seen_at).getTime(),
  };
  const f = key[sort.key] ?? key.name!;
  const dir = sort.dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return (x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name)) * dir;
  });
}
