// What the Notifications area's pages share: their dependencies, the tabs
// between the four views, the page for people outside a tenant, and the
// delivery state badge.

import type { Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import { callerFrom } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { NotifyDeps } from "../../src/notify/service.ts";
import { Badge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

export interface NotifyPageDeps {
  auth: Auth;
  notify: NotifyDeps;
}

export type NotifyTab = "channels" | "routes" | "deliveries" | "dead";

const TABS: ReadonlyArray<{ key: NotifyTab; label: string; href: string }> = [
  { key: "channels", label: "Channels", href: "/notifications" },
  { key: "routes", label: "Routing rules", href: "/notifications/routes" },
  { key: "deliveries", label: "Delivery log", href: "/notifications/deliveries" },
  { key: "dead", label: "Dead letters", href: "/notifications/deliveries?status=dead" },
];

/** The area's tabs; the current one is marked for assistive tech too. */
export function NotifyTabs(p: { current: NotifyTab }): VNode {
  return html`<nav class="tabs" aria-label="Notifications">
    ${TABS.map((t) => html`<a href=${t.href} data-tab=${t.key} aria-current=${t.key === p.current ? "page" : undefined}>${t.label}</a>`)}
  </nav>`;
}

/** Everything here belongs to a tenant: people outside one (operators) choose it first. */
export function needsTenant(c: Context<HttpEnv>, env: PageEnv, tab: NotifyTab): Response | undefined {
  if (callerFrom(c).tenantId) return undefined;
  return renderPage(
    c,
    env,
    { title: "Notifications", active: "notifications" },
    html`${PageHeader({ title: "Notifications" })} ${NotifyTabs({ current: tab })}
      ${EmptyState({ title: "Notifications belong to a tenant", body: "Choose a tenant in the top bar to see its channels, routing rules and deliveries." })}`,
  );
}

/** A delivery's state, in the same words as the API: PENDING, DELIVERED, DEAD. */
export function DeliveryBadge(p: { status: string; title?: string }): VNode {
  const tone = p.status === "delivered" ? "ok" : p.status === "dead" ? "bad" : "warn";
  return html`<span data-delivery-status=${p.status}>${Badge({ tone, text: p.status.toUpperCase(), icon: p.status === "delivered" ? "check" : p.status === "dead" ? "offline" : "stale", title: p.title })}</span>`;
}

/** A copy sorted by one key (lists here are one tenant's, small enough to sort in memory); ties keep their order. */
export function sortRows<R>(rows: readonly R[], key: (r: R) => string | number, dir: "asc" | "desc"): R[] {
  const sign = dir === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -sign : x > y ? sign : 0;
  });
}
