// The frame of the sign-in pages (provider login, consent, invites, password
// resets): no navigation, one centred card, the same stylesheet and theme.

import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Assets } from "../assets.ts";
import { html, renderDocument, type VNode } from "../render.ts";
import { readFlash } from "./page.ts";

export function renderAuthPage(c: Context<HttpEnv>, assets: Assets, title: string, body: VNode | VNode[], status = 200): Response {
  const theme = getCookie(c, "pulse_theme");
  // A message carried over a redirect ("your account is ready, sign in").
  const flash = readFlash(c);
  return c.html(
    renderDocument(html`<html lang="en" data-theme=${theme === "dark" || theme === "light" ? theme : undefined}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · Pulse</title>
        <link rel="stylesheet" href=${assets.url("app.css")} />
        <link rel="icon" href="data:," />
      </head>
      <body class="auth-body">
        <main id="main" class="auth-main">
          <div class="auth-brand"><span class="brand-mark" aria-hidden="true">◉</span> Pulse</div>
          <section class="card auth-card">
            ${flash ? html`<div class=${`flash flash-${flash.kind}`} role=${flash.kind === "error" ? "alert" : "status"}>${flash.text}</div>` : null}${body}
          </section>
        </main>
      </body>
    </html>`),
    status as 200,
  );
}

/** A labelled form field; the error (if any) is announced and tied to the input. */
export function Field(p: { name: string; label: string; type?: string; value?: string; autocomplete?: string; required?: boolean; error?: string; hint?: string; autofocus?: boolean }): VNode {
  const id = `f-${p.name}`;
  return html`<div class="field">
    <label for=${id}>${p.label}</label>
    <input
      id=${id}
      name=${p.name}
      type=${p.type ?? "text"}
      value=${p.value}
      autocomplete=${p.autocomplete}
      required=${p.required ?? true}
      autofocus=${p.autofocus}
      aria-invalid=${p.error ? "true" : undefined}
      aria-describedby=${p.error ? `${id}-err` : p.hint ? `${id}-hint` : undefined}
    />
    ${p.hint && !p.error ? html`<div class="hint" id=${`${id}-hint`}>${p.hint}</div>` : null}
    ${p.error ? html`<div class="field-error" id=${`${id}-err`} role="alert">${p.error}</div>` : null}
  </div>`;
}

export function ErrorBox(p: { message?: string }): VNode | null {
  return p.message ? html`<div class="flash flash-error" role="alert">${p.message}</div>` : null;
}
