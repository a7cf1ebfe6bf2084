// The browsable API reference, rendered from the same OpenAPI document served
// at /api/v1/openapi.json (so it cannot drift from the routes): an index of
// operations by tag beside the operations themselves.

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { EmptyState } from "../components/empty.ts";
import { PageHeader } from "../components/page-header.ts";
import { FilterBar, withQuery } from "../components/table.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: { type?: string } }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

interface Doc {
  info?: { title?: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
}

interface Op {
  path: string;
  method: string;
  op: Operation;
  id: string;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** A fragment id that reads well in a URL: op-get-api-v1-devices-id. */
function opId(method: string, path: string): string {
  return `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;
}

export function apiDocsPages(env: PageEnv, deps: { openapi: () => unknown }): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/api-docs", (c) => {
    const doc = deps.openapi() as Doc;
    const q = (c.req.query("q") ?? "").trim().toLowerCase();
    const byTag = new Map<string, Op[]>();
    for (const [p, ops] of Object.entries(doc.paths ?? {})) {
      for (const method of METHODS) {
        const op = ops[method];
        if (!op) continue;
        const tag = op.tags?.[0] ?? "Other";
        const path = "/api/v1" + p;
        if (q && ![method, path, tag, op.summary ?? "", op.description ?? ""].some((t) => t.toLowerCase().includes(q))) continue;
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag)!.push({ path, method, op, id: opId(method, path) });
      }
    }
    const tags = [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b));
    return renderPage(
      c,
      env,
      { title: "API reference", active: "api" },
      html`${PageHeader({
          title: "API reference",
          description: html`Every operation under <code>/api/v1</code>, generated from the routes. Machine-readable: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a> (OpenAPI 3.1).`,
        })}
        ${doc.info?.description ? html`<p class="api-intro">${inlineCode(doc.info.description)}</p>` : null}
        ${FilterBar({ url: c.req.url, search: { label: "Filter operations", placeholder: "Filter by path, method or summary" }, keep: [] })}
        ${tags.length === 0
          ? EmptyState({
              title: q ? "No operations match this filter" : "No operations yet",
              body: q ? "Try a path segment such as “devices”, or clear the filter." : "Operations appear here as API routes are added.",
              actions: q ? [{ label: "Clear the filter", href: withQuery(c.req.url, { q: null }) }] : [],
              compact: true,
            })
          : Reference(tags)}`,
    );
  });
  return app;
}

/** The OpenAPI text's `code` spans as <code>; the rest stays text (never HTML). */
function inlineCode(text: string): Array<VNode | string> {
  return text.split(/`([^`]+)`/).map((part, i) => (i % 2 ? html`<code>${part}</code>` : part));
}

function Reference(tags: Array<[string, Op[]]>): VNode {
  return html`<div class="api-layout">
    <nav class="api-index" aria-label="Operations">
      ${tags.map(
        ([tag, ops]) => html`<h2>${tag}</h2>
          <ul>
            ${ops.map((o) => html`<li><a href=${"#" + o.id}>${Method(o.method)}<span>${o.op.summary ?? o.path}</span></a></li>`)}
          </ul>`,
      )}
    </nav>
    <div>${tags.map(([tag, ops]) => html`<section class="api-tag"><h2>${tag}</h2>${ops.map(renderOperation)}</section>`)}</div>
  </div>`;
}

function Method(method: string): VNode {
  return html`<span class=${`method method-${method}`}>${method.toUpperCase()}</span>`;
}

function renderOperation(o: Op): VNode {
  const { op } = o;
  const params = op.parameters ?? [];
  const bodyTypes = Object.keys(op.requestBody?.content ?? {});
  return html`<article class="card api-op" id=${o.id} data-operation=${`${o.method.toUpperCase()} ${o.path}`}>
    <h3>${Method(o.method)} <code>${o.path}</code></h3>
    ${op.summary ? html`<p>${op.summary}</p>` : null}
    ${op.description && op.description !== op.summary ? html`<p class="muted">${inlineCode(op.description)}</p>` : null}
    ${params.length
      ? html`<table class="data">
          <thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr></thead>
          <tbody>
            ${params.map(
              (p) =>
                html`<tr>
                  <td><code>${p.name}</code>${p.required ? html` <span class="muted" title="required">required</span>` : null}</td>
                  <td>${p.in}</td>
                  <td>${p.schema?.type ?? ""}</td>
                  <td>${inlineCode(p.description ?? "")}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
      : null}
    ${bodyTypes.length ? html`<p class="muted">Request body: ${bodyTypes.join(", ")}</p>` : null}
    <ul class="responses">
      ${Object.entries(op.responses ?? {}).map(
        ([code, r]) => html`<li><code class=${`status-code ${code.startsWith("2") ? "tone-ok" : code.startsWith("4") || code.startsWith("5") ? "tone-bad" : ""}`}>${code}</code> ${inlineCode(r.description ?? "")}</li>`,
      )}
    </ul>
  </article>`;
}
