// The shell of every page: top bar, navigation for every area, main content,
// flash message, and the keyboard shortcuts dialog. Areas that have not
// shipped yet are listed but not links, so the navigation never leads to a
// dead page. Controls that need JavaScript (theme, shortcuts) start hidden and
// their island reveals them, so nothing on the page is a button that does nothing.

import { html, type VNode } from "../render.ts";
import type { Assets } from "../assets.ts";
import { Icon } from "./icons.ts";

export interface NavArea {
  key: string;
  label: string;
  href: string;
  group: NavGroup;
  /** Only operators see it (once a signed-in user is known). */
  operatorOnly?: boolean;
  /** Only administrators see it: tenant-admins and operators, not customers. */
  adminOnly?: boolean;
}

export type NavGroup = "Operate" | "Configure" | "Insights" | "Admin" | "Developers";
const GROUPS: readonly NavGroup[] = ["Operate", "Configure", "Insights", "Admin", "Developers"];

export const AREAS: readonly NavArea[] = [
  { key: "fleet", label: "Fleet overview", href: "/", group: "Operate" },
  { key: "devices", label: "Devices", href: "/devices", group: "Operate" },
  { key: "alerts", label: "Alerts", href: "/alerts", group: "Operate" },
  { key: "sites", label: "Sites", href: "/sites", group: "Operate" },
  { key: "quarantine", label: "Quarantine", href: "/quarantine", group: "Operate" },
  { key: "oncall", label: "On-call", href: "/oncall", group: "Operate" },
  { key: "alert-rules", label: "Alert rules", href: "/alert-rules", group: "Configure" },
  { key: "maintenance", label: "Maintenance", href: "/maintenance", group: "Configure" },
  { key: "metrics", label: "Metrics", href: "/metrics-catalog", group: "Configure" },
  { key: "escalation", label: "Escalation", href: "/escalation", group: "Configure" },
  { key: "notifications", label: "Notifications", href: "/notifications", group: "Configure" },
  { key: "reports", label: "Reports", href: "/reports", group: "Insights" },
  { key: "audit", label: "Audit", href: "/audit", group: "Insights", adminOnly: true },
  { key: "users", label: "Users", href: "/users", group: "Admin", adminOnly: true },
  { key: "identity-providers", label: "Sign-in providers", href: "/identity-providers", group: "Admin", adminOnly: true },
  { key: "tenants", label: "Tenants", href: "/tenants", group: "Admin", operatorOnly: true },
  { key: "subscription", label: "Subscription", href: "/subscription", group: "Admin" },
  { key: "operator", label: "Operator", href: "/operator", group: "Admin", operatorOnly: true },
  { key: "developer", label: "Developer access", href: "/developer", group: "Developers", adminOnly: true },
  { key: "api", label: "API reference", href: "/api-docs", group: "Developers" },
];

/** A keyboard shortcut as listed in the `?` dialog. */
export interface Shortcut {
  /** Keys pressed in sequence: ["g", "d"]. */
  keys: string[];
  label: string;
}

/** `g <key>` jumps to an area; the island reads the targets from the dialog. */
const GO_TO: ReadonlyArray<{ key: string; area: string; label: string }> = [
  { key: "d", area: "devices", label: "Go to devices" },
  { key: "a", area: "alerts", label: "Go to alerts" },
];

/** The tenants a person may work in, when there is more than one choice (top bar switcher). */
export interface TenantSwitch {
  /** The tenant worked in now; null = none (operators: the platform view). */
  current: string | null;
  choices: ReadonlyArray<{ id: string; name: string }>;
  /** Operators may work in no tenant at all. */
  allowNone: boolean;
  /** The session's CSRF token. */
  csrf: string;
  /** Where to land after switching (the current area). */
  next: string;
}

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
  /** Shown instead of the tenant's name when the person has more than one tenant to choose from. */
  tenantSwitch?: TenantSwitch | undefined;
  /** Where the sign-out form posts, with any hidden fields it needs (CSRF token). */
  signOut?: { action: string; fields?: Record<string, string> } | undefined;
  flash?: Flash | undefined;
  /** The user's remembered choice; absent = follow the system. */
  theme?: "light" | "dark" | undefined;
  /** Islands this page needs (logical names, e.g. "islands/live-feed.js"). */
  islands?: string[];
  /** Shortcuts this page adds to the list (e.g. F for TV mode); the page's island handles them. */
  shortcuts?: Shortcut[];
  children: VNode | VNode[] | string;
}

const OPERATOR_ROLES = new Set(["operator", "operator-admin"]);
const ADMIN_ROLES = new Set(["tenant-admin", "operator", "operator-admin"]);

// The favicon: the brand's pulse line, as a data: URL (img-src allows data:).
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3b5bdb"/><path d="M2 8.5h3l1.5-4 3 7 1.5-3h3" fill="none" stroke="#fff" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"/></svg>`,
  );

/** The brand's pulse line in a rounded square (accent colours from app.css). */
export function BrandMark(): VNode {
  return html`<svg class="brand-mark" viewBox="0 0 16 16" width="20" height="20" aria-hidden="true" focusable="false">
    <rect width="16" height="16" rx="3.5" />
    <path d="M2 8.5h3l1.5-4 3 7 1.5-3h3" fill="none" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round" />
  </svg>`;
}

export function Layout(p: LayoutProps): VNode {
  const islands = ["islands/theme.js", "islands/shortcuts.js", ...(p.islands ?? []).filter((n) => n !== "islands/theme.js" && n !== "islands/shortcuts.js")];
  const isOperator = p.user ? OPERATOR_ROLES.has(p.user.role) : true;
  const isAdmin = p.user ? ADMIN_ROLES.has(p.user.role) : true;
  const areas = AREAS.filter((a) => (!a.operatorOnly || isOperator) && (!a.adminOnly || isAdmin));
  return html`<html lang="en" data-theme=${p.theme}>
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>${p.title} · Pulse</title>
      <link rel="stylesheet" href=${p.assets.url("app.css")} />
      <link rel="icon" href=${FAVICON} />
      ${islands.map((name) => html`<script type="module" src=${p.assets.url(name)}></script>`)}
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href="/">${BrandMark()}<span>Pulse</span></a>
        ${p.tenantSwitch ? TenantSwitcher(p.tenantSwitch) : p.user?.tenant ? html`<span class="topbar-tenant" title="Tenant">${p.user.tenant}</span>` : null}
        <div class="topbar-right">
          <button type="button" class="btn btn-ghost btn-icon" data-shortcuts-open hidden aria-haspopup="dialog" aria-controls="shortcuts" title="Keyboard shortcuts (?)">
            ${Icon({ name: "keyboard" })}<span class="visually-hidden">Keyboard shortcuts</span>
          </button>
          <button type="button" class="btn btn-ghost btn-icon" data-theme-toggle hidden title="Switch between light and dark theme">
            ${Icon({ name: "theme" })}<span class="theme-label">Theme</span>
          </button>
          ${p.user ? UserMenu({ user: p.user, signOut: p.signOut }) : html`<a class="btn" href="/login">Sign in</a>`}
        </div>
      </header>
      <div class="frame">
        <nav class="sidenav" aria-label="Areas">
          ${GROUPS.map((g) => {
            const items = areas.filter((a) => a.group === g);
            return items.length
              ? html`<div class="nav-group">
                  <p class="nav-heading" aria-hidden="true">${g}</p>
                  <ul>
                    ${items.map((a) =>
                      p.available.has(a.key)
                        ? html`<li><a href=${a.href} data-area=${a.key} aria-current=${p.active === a.key ? "page" : undefined}>${a.label}</a></li>`
                        : html`<li>
                            <span class="nav-disabled" data-area=${a.key} aria-disabled="true" title="Not available in this version yet"
                              >${a.label}<span class="visually-hidden"> (not available yet)</span></span
                            >
                          </li>`,
                    )}
                  </ul>
                </div>`
              : null;
          })}
        </nav>
        <main id="main" tabindex="-1">
          ${p.flash ? html`<div class="flash flash-${p.flash.kind}" role=${p.flash.kind === "error" ? "alert" : "status"}>${p.flash.text}</div>` : null}
          ${p.children}
        </main>
      </div>
      ${ShortcutsDialog({ available: p.available, extra: p.shortcuts ?? [] })}
    </body>
  </html>`;
}

function UserMenu(p: { user: NonNullable<LayoutProps["user"]>; signOut: LayoutProps["signOut"] }): VNode {
  return html`<span class="who">
    <a class="who-name" href="/account" title="Your account">${p.user.name}</a>
    <span class="who-role">${p.user.role}</span>
    ${p.signOut
      ? html`<form method="post" action=${p.signOut.action} class="inline-form">
          ${Object.entries(p.signOut.fields ?? {}).map(([k, v]) => html`<input type="hidden" name=${k} value=${v} />`)}
          <button type="submit" class="btn btn-ghost">Sign out</button>
        </form>`
      : null}
  </span>`;
}

/** A small form: choose the tenant to work in, then Switch (no script: changing a select must not navigate by itself). */
function TenantSwitcher(t: TenantSwitch): VNode {
  return html`<form method="post" action="/session/tenant" class="tenant-switch" data-tenant-switch>
    <input type="hidden" name="_csrf" value=${t.csrf} />
    <input type="hidden" name="next" value=${t.next} />
    <label class="visually-hidden" for="topbar-tenant">Tenant you work in</label>
    <select id="topbar-tenant" name="tenant">
      ${t.allowNone ? html`<option value="" selected=${t.current === null}>All tenants (platform)</option>` : null}
      ${t.choices.map((o) => html`<option value=${o.id} selected=${o.id === t.current}>${o.name}</option>`)}
    </select>
    <button type="submit" class="btn btn-ghost btn-sm">Switch</button>
  </form>`;
}

/** Rendered on every page, closed; the shortcuts island opens it with `?`. Closes with Esc or its button, without script. */
function ShortcutsDialog(p: { available: ReadonlySet<string>; extra: Shortcut[] }): VNode {
  const row = (keys: string[], label: VNode | string, attrs: Record<string, string> = {}) =>
    html`<tr ...${attrs}>
      <td class="keys">${keys.map((k, i) => html`${i ? html`<span class="then">then</span>` : null}<kbd>${k}</kbd>`)}</td>
      <td>${label}</td>
    </tr>`;
  return html`<dialog id="shortcuts" class="dialog" aria-labelledby="shortcuts-title">
    <div class="dialog-head">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <form method="dialog"><button class="btn btn-ghost" type="submit" aria-label="Close">Close</button></form>
    </div>
    <table class="shortcuts">
      <tbody>
        ${row(["/"], "Focus the search box")}
        ${GO_TO.map((g) =>
          p.available.has(g.area)
            ? row(["g", g.key], g.label, { "data-go": g.key, "data-href": AREAS.find((a) => a.key === g.area)!.href })
            : row(["g", g.key], html`${g.label} <span class="muted">(not available yet)</span>`),
        )}
        ${p.extra.map((s) => row(s.keys, s.label))}
        ${row(["?"], "Show this list")}
        ${row(["Esc"], "Close this dialog")}
      </tbody>
    </table>
  </dialog>`;
}
