// A list of alerts: severity, what, which device at which site, since when,
// how often, its status and who took it. The alert inbox, the fleet overview
// and a device's alerts tab all draw alerts with this, so an alert looks the
// same everywhere. Each row links to the alert's page.
//
// A device page shows one device's alerts like this:
//
//   const alerts = await listTenantAlerts(deps, ctx, { deviceId, status: "ALL", limit: 50 });
//   AlertList({ alerts, now, timeZone, showDevice: false, label: "Alerts of pump-7",
//     empty: { title: "No alerts for this device", body: "…" } })

import type { AlertRow } from "../../src/alerts/store.ts";
import { html, type VNode } from "../render.ts";
import { Badge, SeverityBadge } from "./badges.ts";
import { EmptyState, type EmptyStateProps } from "./empty.ts";
import { absoluteTime, formatCount, RelativeTime } from "./format.ts";

/** An alert with, where known, the names behind its ids. */
export type AlertListItem = AlertRow & { device_name?: string | null; site_name?: string | null; tenant_name?: string };

/** OPEN / ACKNOWLEDGED / CLOSED, the same word and colour everywhere. */
export function AlertStatusBadge(p: { status: AlertRow["status"]; title?: string }): VNode {
  if (p.status === "OPEN") return Badge({ tone: "bad", text: "OPEN", icon: "dash", title: p.title ?? "Nobody has acknowledged it yet" });
  if (p.status === "ACKNOWLEDGED") return Badge({ tone: "warn", text: "ACKNOWLEDGED", icon: "check", title: p.title });
  return Badge({ tone: "ok", text: "CLOSED", icon: "check", title: p.title });
}

/** Suppressed (raised in maintenance) and silenced markers; nothing when neither applies. */
export function AlertMarkers(p: { alert: Pick<AlertRow, "suppressed" | "silenced_until" | "status" | "alert_type">; now: Date; timeZone: string }): VNode | null {
  const a = p.alert;
  const silenced = a.silenced_until && a.silenced_until > p.now && a.status !== "CLOSED";
  const marks = [
    a.alert_type === "NO_HEARTBEAT" ? html`<span class="marker" data-marker="no-heartbeat" title="The device stopped sending">NO HEARTBEAT</span>` : null,
    a.suppressed ? html`<span class="marker" data-marker="suppressed" title="Raised during a maintenance window: recorded, not notified">SUPPRESSED</span>` : null,
    silenced
      ? html`<span class="marker" data-marker="silenced" title=${`Notifications paused until ${absoluteTime(a.silenced_until!, p.timeZone)}`}>SILENCED until ${shortTime(a.silenced_until!, p.now, p.timeZone)}</span>`
      : null,
  ].filter(Boolean);
  return marks.length ? html`<span class="markers">${marks}</span>` : null;
}

/** "14:05" today, "Tue 08:00" within a week, else "3 Dec 08:00" — in the tenant's zone. */
export function shortTime(t: Date, now: Date, timeZone: string): string {
  const day = (d: Date) => new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  const hm = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(t);
  if (day(t) === day(now)) return hm;
  const days = Math.abs(t.getTime() - now.getTime()) / 86_400_000;
  const date = new Intl.DateTimeFormat("en-GB", days < 6 ? { timeZone, weekday: "short" } : { timeZone, day: "numeric", month: "short" }).format(t);
  return `${date} ${hm}`;
}

/** Who is on it: "by alice" for acknowledged, "closed by bob" for closed. */
export function AlertOwner(p: { alert: Pick<AlertRow, "status" | "acknowledged_by" | "closed_by"> }): VNode | null {
  const a = p.alert;
  if (a.status === "CLOSED" && a.closed_by) return html`<span class="muted owner">closed by ${a.closed_by}</span>`;
  if (a.acknowledged_by) return html`<span class="owner">by <strong>${a.acknowledged_by}</strong></span>`;
  return null;
}

/** The device's name (and id), linking to its page; `compact` shows the name alone, the id on hover. */
export function DeviceLink(p: { id: string; name?: string | null; compact?: boolean }): VNode {
  const both = p.name && p.name !== p.id;
  return html`<a class="device-link" href=${`/devices/${encodeURIComponent(p.id)}`} title=${p.compact && both ? p.id : undefined}
    >${p.name || p.id}${both && !p.compact ? html` <span class="muted mono small">${p.id}</span>` : null}</a
  >`;
}

export interface AlertListProps {
  alerts: readonly AlertListItem[];
  now: Date;
  /** The tenant's zone, for the exact times on hover. */
  timeZone: string;
  /** Names the table: "Active alerts". */
  label?: string;
  empty: EmptyStateProps;
  /** Off on a device's own page. */
  showDevice?: boolean;
  showSite?: boolean;
  /** A tenant column (operators looking across tenants). */
  showTenant?: boolean;
  /** Fewer columns, for overview panels. */
  compact?: boolean;
  /** A checkbox per row posting `ids` with the enclosing form (bulk actions). */
  selectable?: boolean;
  /** Buttons at the end of a row (one-click actions). */
  actions?: (a: AlertListItem) => VNode | null;
}

export function AlertList(p: AlertListProps): VNode {
  if (p.alerts.length === 0) return html`<div class="table-empty" data-table=${p.label ?? "Alerts"}>${EmptyState(p.empty)}</div>`;
  const showDevice = p.showDevice ?? true;
  const showSite = (p.showSite ?? true) && !p.compact;
  return html`<div class="table-wrap">
    <table class="data alerts-table" data-table=${p.label ?? "Alerts"} aria-label=${p.label ?? "Alerts"}>
      <thead>
        <tr>
          ${p.selectable ? html`<th scope="col" class="select-col"><span class="visually-hidden">Select</span><span data-bulk-all-slot></span></th>` : null}
          <th scope="col">Severity</th>
          ${p.showTenant ? html`<th scope="col">Tenant</th>` : null}
          <th scope="col">Alert</th>
          ${showDevice ? html`<th scope="col">Device</th>` : null}
          ${showSite ? html`<th scope="col" class="hide-narrow">Site</th>` : null}
          <th scope="col">Since</th>
          ${p.compact ? null : html`<th scope="col" class="num" title="How often the condition fired while the alert was open">Triggers</th>`}
          <th scope="col">Status</th>
          ${p.actions ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
        </tr>
      </thead>
      <tbody>
        ${p.alerts.map(
          (a) => html`<tr key=${a.id} class="row-link" data-alert=${a.id} data-severity=${a.severity} data-status=${a.status}>
            ${p.selectable
              ? html`<td class="select-col">
                  <input type="checkbox" name="ids" value=${a.id} data-bulk-item aria-label=${`Select: ${a.summary}`} />
                </td>`
              : null}
            <td>${SeverityBadge({ severity: a.severity })}</td>
            ${p.showTenant ? html`<td>${a.tenant_name ?? a.tenant_id}</td>` : null}
            <td class="alert-summary">
              <a class="row-anchor" href=${`/alerts/${a.id}`}>${a.summary}</a>
              ${AlertMarkers({ alert: a, now: p.now, timeZone: p.timeZone })}
            </td>
            ${showDevice ? html`<td>${DeviceLink({ id: a.device_id, name: a.device_name, compact: p.compact })}</td>` : null}
            ${showSite ? html`<td class="hide-narrow">${a.site_name ?? a.site_id ?? html`<span class="muted">—</span>`}</td>` : null}
            <td class="nowrap">${RelativeTime({ t: a.opened_at, now: p.now, timeZone: p.timeZone })}</td>
            ${p.compact ? null : html`<td class="num">${formatCount(a.trigger_count)}</td>`}
            <td class="status-cell">${AlertStatusBadge({ status: a.status })} ${AlertOwner({ alert: a })}</td>
            ${p.actions ? html`<td class="row-actions-cell">${p.actions(a)}</td>` : null}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}
