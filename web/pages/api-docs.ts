// The browsable API reference, rendered from the same OpenAPI document served
// at /api/v1/openapi.json (so it cannot drift from the routes).

import { Hono } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
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

const METHODS = ["get", "post", "put", "patch", "delete"];

export function apiDocsPages(env: PageEnv, deps: { openapi: () => unknown }): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  app.get("/api-docs", (c) => {
    const doc = deps.openapi() as Doc;
    const byTag = new Map<string, VNode[]>();
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const method of METHODS) {
        const op = ops[method];
        if (!op) continue;
        const tag = op.tags?.[0] ?? "Other";
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag)!.push(renderOperation("/api/v1" + path, method, op));
      }
    }
    return renderPage(
      c,
      env,
      { title: "API reference", active: "api" },
      html`<h1>API reference</h1>
        <p class="muted">${doc.info?.description}</p>
        <p>Machine-readable: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a> (OpenAPI 3.1).</p>
        ${[...byTag.entries()].map(([tag, ops]) => html`<section><h2>${tag}</h2>${ops}</section>`)}`,
    );
  });
  return app;
}

function renderOperation(path: string, method: string, op: Operation): VNode {
  const params = op.parameters ?? [];
  const bodyTypes = Object.keys(op.requestBody?.content ?? {});
  return html`<article class="card api-op" id=${`${method}-${path}`}>
    <h3><span class=${`method method-${method}`}>${method.toUpperCase()}</span> <code>${path}</code></h3>
    ${op.summary ? html`<p>${op.summary}</p>` : null}
    ${params.length
      ? html`<table class="data">
          <thead><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr></thead>
          <tbody>
            ${params.map(
              (p) => html`<tr><td><code>${p.name}</code>${p.required ? " *" : ""}</td><td>${p.in}</td><td>${p.schema?.type ?? ""}</td><td>${p.description ?? ""}</td></tr>`,
            )}
          </tbody>
        </table>`
      : null}
    ${bodyTypes.length ? html`<p class="muted">Body: ${bodyTypes.join(", ")}</p>` : null}
    <ul class="responses">
      ${Object.entries(op.responses ?? {}).map(([code, r]) => html`<li><code>${code}</code> ${r.description ?? ""}</li>`)}
    </ul>
  </article>`;
}
