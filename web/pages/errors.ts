// The HTML error page (404, 403, 500…) for people; API clients get JSON.
// It says what happened, gives the request id to quote in a report, and
// offers a way back.
import type { Context } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html } from "../render.ts";

const KIND: Record<number, string> = { 400: "Bad request", 401: "Sign-in needed", 403: "Not allowed", 404: "Not found", 409: "Conflict", 413: "Too large", 429: "Slow down" };

export function errorPage(env: PageEnv) {
  return (c: Context<HttpEnv>, status: number, title: string, message: string): Response =>
    renderPage(
      c,
      env,
      { title, status },
      html`<section class="error-page card" data-error-status=${status}>
        <p class="error-code">Error ${status} · ${KIND[status] ?? (status >= 500 ? "Server error" : "Error")}</p>
        <h1>${title}</h1>
        ${message !== title ? html`<p>${message}</p>` : null}
        ${c.get("requestId") ? html`<p class="muted">Request id <code>${c.get("requestId")}</code> — quote it when you report this.</p>` : null}
        <div class="error-actions">
          <a class="btn btn-primary" href="/">Go to the fleet overview</a>
        </div>
      </section>`,
    );
}
