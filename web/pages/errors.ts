// The HTML error page (404, 403, 500…) for people; API clients get JSON.
import type { Context } from "hono";
import type { HttpEnv } from "../../src/http/env.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html } from "../render.ts";

export function errorPage(env: PageEnv) {
  return (c: Context<HttpEnv>, status: number, title: string, message: string): Response =>
    renderPage(
      c,
      env,
      { title, status },
      html`<section class="error-page card">
        <h1>${title}</h1>
        <p>${message}</p>
        <p class="muted">HTTP ${status}${c.get("requestId") ? html` · request id <code>${c.get("requestId")}</code>` : null}</p>
        <p><a class="btn" href="/">Go to the fleet overview</a></p>
      </section>`,
    );
}
