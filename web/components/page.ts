// Rendering a page inside the layout from a request: theme from its cookie,
// the flash message (one-shot cookie set by a redirect), the signed-in user.

import type { Context } from "hono";
import { getCookie, deleteCookie, setCookie } from "hono/cookie";
import { roleOf } from "../../src/auth/principal.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Assets } from "../assets.ts";
import { renderDocument, type VNode } from "../render.ts";
import { Layout, type Flash, type LayoutProps, type Shortcut } from "./layout.ts";

/** The tenants the signed-in person may switch between; set by the web router for pages (see web/app.ts). */
export interface TenantChoices {
  current: string | null;
  choices: Array<{ id: string; name: string }>;
  allowNone: boolean;
}

declare module "../../src/http/env.ts" {
  interface HttpVariables {
    tenantChoices?: TenantChoices;
  }
}

export interface PageEnv {
  assets: Assets;
  available: ReadonlySet<string>;
}

export interface PageOptions {
  title: string;
  active?: string;
  islands?: string[];
  /** Defaults to the signed-in principal (session), with a sign-out form carrying its CSRF token. */
  user?: LayoutProps["user"];
  signOut?: LayoutProps["signOut"];
  /** Page-specific keyboard shortcuts listed in the `?` dialog. */
  shortcuts?: Shortcut[];
  status?: number;
}

export function renderPage(c: Context<HttpEnv>, env: PageEnv, opts: PageOptions, body: VNode | VNode[]): Response {
  const theme = getCookie(c, "pulse_theme");
  const flash = readFlash(c);
  const principal = c.get("principal");
  const user = opts.user ?? (principal?.via === "session" ? { name: principal.displayName, role: roleOf(principal) ?? "no role", tenant: principal.tenantName ?? undefined } : undefined);
  const csrf = c.get("csrf");
  const signOut = opts.signOut ?? (principal?.via === "session" ? { action: "/logout", fields: csrf ? { _csrf: csrf } : {} } : undefined);
  const choices = c.get("tenantChoices");
  const tenantSwitch =
    choices && csrf && choices.choices.length + (choices.allowNone ? 1 : 0) > 1
      ? { ...choices, csrf, next: "/" + (c.req.path.split("/")[1] ?? "") }
      : undefined;
  const doc = renderDocument(
    Layout({
      title: opts.title,
      active: opts.active,
      assets: env.assets,
      available: env.available,
      user,
      tenantSwitch,
      signOut,
      flash,
      theme: theme === "dark" || theme === "light" ? theme : undefined,
      islands: opts.islands,
      shortcuts: opts.shortcuts,
      children: body,
    }),
  );
  return c.html(doc, (opts.status ?? 200) as 200);
}

/** Redirect after a POST with a message shown once on the next page. */
export function redirectWithFlash(c: Context<HttpEnv>, to: string, flash: Flash): Response {
  setCookie(c, "pulse_flash", encodeURIComponent(JSON.stringify(flash)), { path: "/", httpOnly: true, sameSite: "Lax", maxAge: 60 });
  return c.redirect(to, 303);
}

/** The one-shot flash message of this request, if any (read once, then cleared). */
export function readFlash(c: Context<HttpEnv>): Flash | undefined {
  const raw = getCookie(c, "pulse_flash");
  if (!raw) return undefined;
  deleteCookie(c, "pulse_flash", { path: "/" });
  try {
    const f = JSON.parse(decodeURIComponent(raw)) as Flash;
    return (f.kind === "ok" || f.kind === "error" || f.kind === "info") && typeof f.text === "string" ? f : undefined;
  } catch {
    return undefined;
  }
}
