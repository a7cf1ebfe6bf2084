// The shell of every page: top bar, navigation for every area, main content,
// flash message. Areas that have not shipped yet are listed but not links, so
// the navigation never leads to a dead page.

import { html, type VNode } from "../render.ts";
import type { Assets } from "../assets.ts";

export interface NavArea {
  key: string;
  label: string;
  href: string;
  /** Only operators see it. */
  operatorOnly?: boolean;
}

export const AREAS: readonly NavArea[] = [
  { key: "fleet", label: "Fleet overview", href: "/" },
  { key: "devices", label: "Devices", href: "/devices" },
  { key: "alerts", label: "Alerts", href: "/alerts" },
  { key: "alert-rules", label: "Alert rules", href: "/alert-rules" },
  { key: "escalation", label: "Escalation", href: "/escalation" },
  { key: "notifications", label: "Notifications", href: "/notifications" },
  { key: "oncall", label: "On-call", href: "/oncall" },
  { key: "reports", label: "Reports", href: "/reports" },
  { key: "sites", label: "Sites", href: "/sites" },
  { key: "subscription", label: "Subscription", href: "/subscription" },
  { key: "users", label: "Users", href: "/users" },
  { key: "audit", label: "Audit", href: "/audit" },
  { key: "operator", label: "Operator", href: "/operator", operatorOnly: true },
  { key: "api", label: "API reference", href: "/api-docs" },
];

export interface Flash {
  kind: "ok" | "error" | "info";
  text: string;
}

export interface LayoutProps {
  title: string;
  /** Key of the current area, highlighted in the navigation. */
  active?: string;
  assets: Assets;
  /** Areas with pages in this build; the rest render as not yet available. */
  available: ReadonlySet<string>;
  user?: { name: string; role: string; tenant?: string } | undefined;
  flash?: Flash | undefined;
  /** The user's remembered choice; absent = follow the system. */
  theme?: "light" | "dark" | undefined;
  /** Islands this page needs (logical names, e.g. "islands/theme.js"). */
  islands?: string[];
  children: VNode | VNode[] | string;
}

export function Layout(p: LayoutProps): VNode {
  const islands = ["islands/theme.js", ...(p.islands ?? [])];
  return html`<html lang="en" data-theme=${p.theme}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>${p.title} · Pulse</title>
      <link rel="stylesheet" href=${p.assets.url("app.css")} />
      <link rel="icon" href="data:," />
      ${islands.map((name) => html`<script type="module" src=${p.assets.url(name)} defer></script>`)}
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">◉</span> Pulse</a>
        <div class="topbar-right">
          <button type="button" class="btn btn-ghost" data-theme-toggle aria-label="Switch light or dark theme">◐ Theme</button>
          ${p.user
            ? html`<span class="who">${p.user.name} <span class="muted">${p.user.tenant ? `${p.user.tenant} · ` : ""}${p.user.role}</span></span>`
            : html`<a class="btn btn-ghost" href="/login">Sign in</a>`}
        </div>
      </header>
      <div class="frame">
        <nav class="sidenav" aria-label="Areas">
          <ul>
            ${AREAS.map((a) =>
              p.available.has(a.key)
                ? html`<li><a href=${a.href} aria-current=${p.active === a.key ? "page" : undefined}>${a.label}</a></li>`
                : html`<li><span class="nav-disabled" aria-disabled="true" title="Not available in this version yet">${a.label}</span></li>`,
            )}
          </ul>
        </nav>
        <main id="main" tabindex="-1">
          ${p.flash ? html`<div class="flash flash-${p.flash.kind}" role=${p.flash.kind === "error" ? "alert" : "status"}>${p.flash.text}</div>` : null}
          ${p.children}
        </main>
      </div>
    </body>
  </html>`;
}
