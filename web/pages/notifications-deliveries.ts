// The delivery log, newest first: every notification the outbox holds, with
// its alert, channel, state, attempts (each with the receiver's answer) and
// the next try. Filters (state, channel, alert) live in the URL and the
// pagination keeps them. The dead letters — deliveries that were refused or
// ran out of retries — are the same list with status=dead, where
// tenant-admins replay them one by one or several at once: the same
// notification again, with the same idempotency key.

import { Hono, type Context } from "hono";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import { AppError } from "../../src/lib/errors.ts";
import { deliveryAttempts, listNotificationChannels, listNotificationDeliveries, replayNotification } from "../../src/notify/service.ts";
import type { OutboxRow } from "../../src/notify/store.ts";
import { SeverityBadge, SEVERITIES, type Severity } from "../components/badges.ts";
import { TypeMark } from "../components/channel-forms.ts";
import { EmptyState } from "../components/empty.ts";
import { CsrfField } from "../components/form.ts";
import { formatCount, RelativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { postedValues } from "../components/scope.ts";
import { FilterBar, Pagination, PAGE_PARAMS, withQuery } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { DeliveryBadge, needsTenant, NotifyTabs, type NotifyPageDeps } from "./notifications-common.ts";

type Delivery = OutboxRow & { channel_name: string; channel_type: string };
type Attempt = Awaited<ReturnType<typeof deliveryAttempts>>[number];

const PAGE_SIZE = 50;
const STATUSES = ["pending", "delivered", "dead"] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BULK_ISLAND = "islands/bulk.js";
const REPLAY_WORDS = "It is sent again with the same idempotency key, so a receiver that already has it can drop the duplicate.";

/** "alert.triggered" → "Triggered". */
export function eventWord(event: string): string {
  const w = event.replace(/^alert\./, "");
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/** The filters a request asks for; values that cannot be ids are dropped with a note. */
export function parseDeliveryFilters(q: URLSearchParams): { status?: (typeof STATUSES)[number]; channelId?: string; alertId?: string; beforeId?: number; problem?: string } {
  const status = (STATUSES as readonly string[]).includes(q.get("status") ?? "") ? (q.get("status") as (typeof STATUSES)[number]) : undefined;
  const channel = (q.get("channel") ?? "").trim();
  const alert = (q.get("alert") ?? "").trim();
  const cursor = q.get("cursor") ?? "";
  const problems: string[] = [];
  if (channel && !UUID.test(channel)) problems.push("the channel filter is not a channel id");
  if (alert && !UUID.test(alert)) problems.push(`“${alert.slice(0, 60)}” is not an alert id (copy it from the alert's address, /alerts/…)`);
  return {
    status,
    channelId: channel && UUID.test(channel) ? channel : undefined,
    alertId: alert && UUID.test(alert) ? alert : undefined,
    beforeId: /^\d{1,15}$/.test(cursor) ? Number(cursor) : undefined,
    problem: problems.length ? `Ignored: ${problems.join("; ")}.` : undefined,
  };
}

export function deliveryPages(env: PageEnv, deps: NotifyPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth, notify } = deps;

  app.get("/notifications/deliveries", async (c) => {
    const url = new URL(c.req.url);
    const filters = parseDeliveryFilters(url.searchParams);
    const tab = filters.status === "dead" ? "dead" : "deliveries";
    const blocked = needsTenant(c, env, tab);
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [rows, channels, zone] = await Promise.all([
      listNotificationDeliveries(notify, ctx, { status: filters.status, channelId: filters.channelId, alertId: filters.alertId, beforeId: filters.beforeId, limit: PAGE_SIZE }),
      listNotificationChannels(notify, ctx),
      viewerTimeZone(auth, principalOf(c)),
    ]);
    const attempts = new Map<number, Attempt[]>(await Promise.all(rows.filter((r) => r.attempts > 0).map(async (r) => [r.id, await deliveryAttempts(notify, ctx, r.id)] as const)));
    const now = auth.clock.now();
    const replayable = admin && rows.some((r) => r.status === "dead");
    const last = rows.at(-1);
    const dead = tab === "dead";
    const table = DeliveryTable({ c, rows, attempts, now, zone, admin, url });
    return renderPage(
      c,
      env,
      { title: dead ? "Dead letters" : "Delivery log", active: "notifications", islands: replayable ? [BULK_ISLAND] : [] },
      html`${PageHeader({
          title: "Notifications",
          description: dead
            ? html`Deliveries that were refused or ran out of retries. ${admin ? "Replay sends one again with the same idempotency key." : "Tenant-admins can replay them."}`
            : "Every notification sent or queued, newest first, with each attempt and the receiver's answer.",
        })}
        ${NotifyTabs({ current: tab })}
        ${FilterBar({
          url,
          search: { name: "alert", label: "Alert id", placeholder: "Alert id" },
          selects: [
            ...(dead ? [] : [{ name: "status", label: "State", options: [{ value: "", label: "Any" }, ...STATUSES.map((s) => ({ value: s, label: s === "dead" ? "dead letter" : s }))] }]),
            { name: "channel", label: "Channel", options: [{ value: "", label: "Any channel" }, ...channels.map((ch) => ({ value: ch.id, label: ch.name }))] },
          ],
          keep: dead ? ["status"] : [],
        })}
        ${filters.problem ? html`<div class="flash flash-info" role="status">${filters.problem}</div>` : null}
        ${rows.length
          ? replayable
            ? html`<form method="post" action="/notifications/deliveries/replay" class="bulk-form" data-bulk data-bulk-empty="Tick dead letters to replay several:" data-bulk-all-label="Select every dead letter on this page">
                ${CsrfField(c)}<input type="hidden" name="back" value=${url.pathname + url.search} />
                ${BulkBar()} ${table}
              </form>`
            : table
          : Empty({ url, dead, channelsExist: channels.length > 0 })}
        ${rows.length
          ? Pagination({
              url,
              prev: url.searchParams.get("cursor") ? { cursor: null } : null,
              next: rows.length === PAGE_SIZE && last ? { cursor: String(last.id) } : null,
              summary: `${formatCount(rows.length)} shown, newest first`,
            })
          : null}`,
    );
  });

  app.post("/notifications/deliveries/replay", async (c) => {
    const ctx = ctxFrom(c);
    const values = await postedValues(c);
    const back = (values.back ?? "").startsWith("/notifications/deliveries") ? values.back! : "/notifications/deliveries?status=dead";
    const ids = (values.only ? [values.only] : (values.ids ?? "").split(",")).map((s) => s.trim()).filter((s) => /^\d{1,15}$/.test(s)).map(Number);
    if (!ids.length) return redirectWithFlash(c, back, { kind: "error", text: "Tick the dead letters to replay first." });
    let done = 0;
    const missed: number[] = [];
    for (const id of ids) {
      try {
        await replayNotification(notify, ctx, id);
        done++;
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
        missed.push(id);
      }
    }
    const what = done === 1 ? "1 delivery" : `${formatCount(done)} deliveries`;
    const text = done
      ? `Replayed ${what}: sent again with the same idempotency key.${missed.length ? ` ${missed.length} were no longer dead letters.` : ""}`
      : "Nothing replayed: those are no longer dead letters.";
    return redirectWithFlash(c, back, { kind: done ? "ok" : "error", text });
  });

  return app;
}

function BulkBar(): VNode {
  return html`<div class="bulk-bar" role="group" aria-label="Replay the selected dead letters">
    <span data-bulk-all-slot></span>
    <span class="bulk-count muted" data-bulk-count>Tick dead letters, then:</span>
    <details class="confirm" data-confirm>
      <summary class="btn btn-sm">Replay selected</summary>
      <div class="confirm-panel" role="group" aria-label="Replay selected">
        <p>Replay the ticked dead letters? ${REPLAY_WORDS}</p>
        <button class="btn btn-primary btn-sm" type="submit" name="action" value="replay" data-bulk-action>Replay them</button>
      </div>
    </details>
  </div>`;
}

function Empty(p: { url: URL; dead: boolean; channelsExist: boolean }): VNode {
  const active = ["alert", "channel", ...(p.dead ? [] : ["status"])].filter((k) => p.url.searchParams.get(k));
  if (active.length || p.url.searchParams.get("cursor"))
    return EmptyState({
      title: p.dead ? "No dead letters match these filters" : "No deliveries match these filters",
      body: "Change or clear the filters to see more.",
      actions: [{ label: "Clear filters", href: withQuery(p.url, Object.fromEntries([...active, ...PAGE_PARAMS].map((k) => [k, null]))) }],
      compact: true,
    });
  if (p.dead) return EmptyState({ icon: "check", title: "No dead letters", body: "Every notification was delivered or is still being retried. Refused ones would wait here to be replayed." });
  return EmptyState({
    title: "Nothing sent yet",
    body: p.channelsExist ? "Notifications show here once an alert matches a routing rule. Send a test from a channel's page to check it meanwhile." : "Add a channel and a routing rule; notifications show here as alerts open, change and close.",
    actions: [{ label: p.channelsExist ? "Routing rules" : "New channel", href: p.channelsExist ? "/notifications/routes" : "/notifications/channels/new" }],
  });
}

function DeliveryTable(p: { c: Context<HttpEnv>; rows: Delivery[]; attempts: Map<number, Attempt[]>; now: Date; zone: string; admin: boolean; url: URL }): VNode {
  const select = p.admin && p.rows.some((r) => r.status === "dead");
  const cols = 8 + (select ? 1 : 0) + (p.admin ? 1 : 0);
  return html`<div class="table-wrap">
    <table class="data deliveries-table" data-table="Deliveries" aria-label="Deliveries">
      <thead>
        <tr>
          ${select ? html`<th scope="col" class="select-col"><span class="visually-hidden">Select</span><span data-bulk-all-slot></span></th>` : null}
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">Alert</th>
          <th scope="col">Channel</th>
          <th scope="col">State</th>
          <th scope="col" class="num">Attempts</th>
          <th scope="col" class="hide-narrow">Next attempt</th>
          <th scope="col">Last error</th>
          ${p.admin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
        </tr>
      </thead>
      ${p.rows.map((d) => DeliveryRows({ ...p, d, select, cols }))}
    </table>
  </div>`;
}

function DeliveryRows(p: { d: Delivery; attempts: Map<number, Attempt[]>; now: Date; zone: string; admin: boolean; select: boolean; cols: number; url: URL }): VNode {
  const { d } = p;
  const alert = (d.payload as { alert?: { summary?: string; severity?: string; device_id?: string } }).alert;
  const severity = (SEVERITIES as readonly string[]).includes(alert?.severity ?? "") ? (alert!.severity as Severity) : undefined;
  const tries = p.attempts.get(d.id) ?? [];
  return html`<tbody class="delivery" data-delivery=${d.id} data-status=${d.status}>
    <tr>
      ${p.select
        ? html`<td class="select-col">${d.status === "dead" ? html`<input type="checkbox" name="ids" value=${String(d.id)} data-bulk-item aria-label=${`Select delivery ${d.id}`} />` : null}</td>`
        : null}
      <td class="nowrap">${RelativeTime({ t: d.created_at, now: p.now, timeZone: p.zone })}</td>
      <td class="nowrap" data-event=${d.event}>${eventWord(d.event)}</td>
      <td class="delivery-alert">
        ${d.alert_id
          ? html`<a href=${`/alerts/${d.alert_id}`} data-alert-link>${alert?.summary ?? d.alert_id}</a>
              <div class="markers">${severity ? SeverityBadge({ severity }) : null}${alert?.device_id ? html`<span class="muted small mono">${alert.device_id}</span>` : null}</div>`
          : html`<span class="muted">—</span>`}
      </td>
      <td class="name-col">
        <span class="person">
          ${d.channel_id ? html`<a href=${`/notifications/channels/${d.channel_id}`}>${d.channel_name}</a>` : html`<span title="A page to one person (escalation)">${d.channel_name}</span>`}
          <span class="person-sub muted">${TypeMark({ type: d.channel_type })}</span>
        </span>
      </td>
      <td class="nowrap">
        ${DeliveryBadge({ status: d.status })}
        ${d.delivered_at ? html`<div class="muted small">${RelativeTime({ t: d.delivered_at, now: p.now, timeZone: p.zone })}</div>` : null}
      </td>
      <td class="num" data-attempts>${d.attempts}</td>
      <td class="hide-narrow nowrap">${d.status === "pending" ? RelativeTime({ t: d.next_attempt_at, now: p.now, timeZone: p.zone }) : html`<span class="muted">—</span>`}</td>
      <td class="delivery-error">${d.last_error ? html`<span class="small" data-last-error>${d.last_error}</span>` : html`<span class="muted">—</span>`}</td>
      ${p.admin
        ? html`<td class="row-actions-cell">
            ${d.status === "dead"
              ? html`<details class="confirm" data-confirm>
                  <summary class="btn btn-sm">Replay</summary>
                  <div class="confirm-panel" role="group" aria-label=${`Replay delivery ${d.id}`}>
                    <p>Replay this ${eventWord(d.event).toLowerCase()} notification to <strong>${d.channel_name}</strong>? ${REPLAY_WORDS}</p>
                    <button class="btn btn-primary btn-sm" type="submit" name="only" value=${String(d.id)} data-replay=${d.id}>Replay it</button>
                  </div>
                </details>`
              : null}
          </td>`
        : null}
    </tr>
    ${tries.length
      ? html`<tr class="attempts-row">
          <td colspan=${p.cols}>
            <details class="attempts" data-attempts-of=${d.id}>
              <summary class="small muted">${tries.length === 1 ? "1 attempt" : `${tries.length} attempts`} — last ${AttemptWords(tries.at(-1)!)}</summary>
              ${AttemptsTable(tries, p.now, p.zone)}
            </details>
          </td>
        </tr>`
      : null}
  </tbody>`;
}

function AttemptWords(a: Attempt): string {
  return `${a.ok ? "ok" : "failed"}${a.status_code !== null ? `, ${a.status_code}` : ""}, ${formatCount(a.latency_ms)} ms`;
}

function AttemptsTable(tries: Attempt[], now: Date, zone: string): VNode {
  return html`<table class="data compact-table attempts-table" aria-label="Attempts">
    <thead>
      <tr>
        <th scope="col">Time</th>
        <th scope="col">Result</th>
        <th scope="col" class="num">Status</th>
        <th scope="col" class="num">Latency</th>
        <th scope="col">Response</th>
        <th scope="col">Error</th>
      </tr>
    </thead>
    <tbody>
      ${tries.map(
        (a) => html`<tr data-attempt-ok=${a.ok ? "yes" : "no"}>
          <td class="nowrap">${RelativeTime({ t: a.time, now, timeZone: zone })}</td>
          <td>${a.ok ? html`<span class="ok-word">ok</span>` : html`<span class="bad-word">failed</span>`}</td>
          <td class="num">${a.status_code ?? html`<span class="muted">—</span>`}</td>
          <td class="num nowrap">${formatCount(a.latency_ms)} ms</td>
          <td>${a.response ? html`<code class="attempt-response">${a.response}</code>` : html`<span class="muted">—</span>`}</td>
          <td>${a.error ? html`<span class="small">${a.error}</span>` : html`<span class="muted">—</span>`}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
