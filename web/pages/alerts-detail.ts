// One alert: what fired, on which device, its timeline (who, when, what,
// value), the metric an hour either side of the trigger for threshold
// alerts, and the actions — acknowledge, close with a reason, silence for
// 15 min / 1 h / 4 h / until tomorrow 08:00 (the tenant's zone) / until a
// chosen time. Every action is a plain form that posts and redirects back.

import { Hono, type Context } from "hono";
import { getAlertRule, type Rule } from "../../src/alerts/rules.ts";
import { actOnAlerts, getAlertWithTimeline, type AlertAction } from "../../src/alerts/service.ts";
import type { AlertRow } from "../../src/alerts/store.ts";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import { describeDevices, type DeviceLabel } from "../../src/fleet/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can, type Ctx } from "../../src/lib/ctx.ts";
import { invalid } from "../../src/lib/errors.ts";
import { addDays, instantOrAfterGap, localParts } from "../../src/lib/zoned.ts";
import { querySeries } from "../../src/telemetry/service.ts";
import { AlertMarkers, AlertOwner, AlertStatusBadge, DeviceLink } from "../components/alert-list.ts";
import { SeverityBadge } from "../components/badges.ts";
import { CsrfField, redirectWithError } from "../components/form.ts";
import { absoluteTime, formatCount, formatValue, RelativeTime, zonedTimeToDate } from "../components/format.ts";
import { localInputValue } from "../components/when.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { LIVE_ISLAND } from "../components/live.ts";
import { Timeline, eventValue } from "../components/timeline.ts";
import { CHART_ISLAND, TimeSeriesChart, type ChartLine } from "../components/timeseries.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import type { AlertPageDeps } from "./alerts.ts";

const HOUR = 3_600_000;

export const SILENCE_PRESETS = [
  { value: "15", label: "15 min" },
  { value: "60", label: "1 h" },
  { value: "240", label: "4 h" },
  { value: "tomorrow", label: "Until tomorrow 08:00" },
] as const;

/** When a silence ends, from a preset (minutes, "tomorrow") or a custom local time in the tenant's zone. */
export function silenceChoice(choice: string, customLocal: string | undefined, now: Date, zone: string): { at: Date; label: string } {
  if (/^\d{1,5}$/.test(choice)) {
    const minutes = Number(choice);
    if (minutes < 1 || minutes > 43_200) throw invalid("silence", "Silence for 1 minute to 30 days.");
    return { at: new Date(now.getTime() + minutes * 60_000), label: minutes < 60 ? `for ${minutes} min` : `for ${minutes / 60 === Math.round(minutes / 60) ? minutes / 60 : (minutes / 60).toFixed(1)} h` };
  }
  if (choice === "tomorrow") {
    const day = addDays(localParts(now.getTime(), zone), 1);
    return { at: new Date(instantOrAfterGap({ ...day, hour: 8, minute: 0 }, zone)), label: "until tomorrow 08:00" };
  }
  if (choice === "custom") {
    const at = customLocal && customLocal.includes("T") ? zonedTimeToDate(customLocal, zone) : undefined;
    if (!at) throw invalid("until", "Pick the date and time the silence ends.");
    if (at <= now) throw invalid("until", "Pick a time in the future for the silence to end.");
    return { at, label: `until ${absoluteTime(at, zone)}` };
  }
  throw invalid("silence", "Choose how long to silence it.");
}

export function alertDetailPages(env: PageEnv, deps: AlertPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth } = deps;
  const alertDeps = { db: auth.db, clock: auth.clock, bus: deps.bus, onError: deps.onError };

  app.get("/alerts/:id", async (c) => {
    const ctx = ctxFrom(c);
    const { alert, timeline } = await getAlertWithTimeline(alertDeps, ctx, c.req.param("id"));
    const zone = await viewerTimeZone(auth, principalOf(c));
    const now = auth.clock.now();
    const [labels, rule] = await Promise.all([
      describeDevices(alertDeps, ctx, [alert.device_id]),
      alert.rule_id ? getAlertRule(alertDeps, ctx, alert.rule_id).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const label = labels.get(alert.device_id);
    const chart = alert.alert_type === "THRESHOLD" && alert.metric_name ? await triggerChart(ctx, alert, rule, now, zone) : undefined;
    const act = can(ctx, "use");
    return renderPage(
      c,
      env,
      { title: alert.summary, active: "alerts", islands: [LIVE_ISLAND, ...(chart ? [CHART_ISLAND] : [])] },
      html`<div data-live="alerts.changed" data-live-match=${`alert_id=${alert.id}`} hidden></div>
        <nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/alerts">Alerts</a><span aria-hidden="true"> / </span><span>${alert.severity} alert</span></nav>
        <div data-live-region="alert-head">${Head({ alert, label, now, zone })}</div>
        <div class="columns wide-first alert-layout">
          <div class="stack">
            ${chart
              ? html`<section class="card" aria-labelledby="chart-title">
                  <h2 id="chart-title">${alert.metric_name} around the trigger</h2>
                  ${chart}
                </section>`
              : null}
            <section class="card" aria-labelledby="timeline-title">
              <h2 id="timeline-title">Timeline</h2>
              <div data-live-region="alert-timeline">${Timeline({ events: timeline, now, timeZone: zone, unit: null, label: "Alert timeline" })}</div>
            </section>
          </div>
          <div class="stack">
            ${act ? html`<div data-live-region="alert-actions">${Actions({ c, alert, now, zone })}</div>` : null}
            <section class="card" aria-labelledby="facts-title">
              <h2 id="facts-title">Details</h2>
              <div data-live-region="alert-facts">${Facts({ alert, label, rule, now, zone })}</div>
            </section>
          </div>
        </div>`,
    );
  });

  /** The metric from an hour before to an hour after it fired (or now), with the rule's thresholds. */
  async function triggerChart(ctx: Ctx, alert: AlertRow, rule: Rule | undefined, now: Date, zone: string): Promise<VNode | undefined> {
    const at = alert.opened_at.getTime();
    const from = new Date(at - HOUR);
    const to = new Date(Math.max(Math.min(at + HOUR, now.getTime()), at + 60_000));
    const result = await querySeries({ db: auth.db }, ctx, alert.device_id, { from, to, metrics: [alert.metric_name!], normalized: rule?.normalized ?? false }).catch(() => undefined);
    const series = result?.series[0];
    if (!series || series.points.length === 0) return html`<p class="muted">No readings of ${alert.metric_name} in the hour around the trigger.</p>`;
    const points = series.points.map((p) => {
      const t = new Date(p[0]).getTime();
      return p.length === 5 ? ([t, p[1], p[2], p[3]] as const) : ([t, typeof p[1] === "number" ? p[1] : null, null, null] as const);
    });
    const lines: ChartLine[] = [];
    const unit = series.unit;
    if (rule && typeof rule.threshold === "number") lines.push({ value: rule.threshold, label: `threshold ${formatValue(rule.threshold, unit ?? undefined)}`, tone: "bad" });
    if (rule && rule.clear_threshold !== null) lines.push({ value: rule.clear_threshold, label: `clears at ${formatValue(rule.clear_threshold, unit ?? undefined)}`, tone: "ok" });
    return TimeSeriesChart({
      id: `alert-chart-${alert.id}`,
      label: `${series.displayName ?? alert.metric_name}${unit ? ` (${unit})` : ""}, an hour either side of the trigger`,
      unit,
      points,
      lines,
      marks: [{ at, label: "fired" }],
      timeZone: zone,
      range: [from.getTime(), to.getTime()],
    });
  }

  const act = (path: string, toAction: (form: Record<string, string | undefined>, zone: string) => { action: AlertAction; done: string }) =>
    app.post(`/alerts/:id/${path}`, async (c) => {
      const id = c.req.param("id");
      const back = `/alerts/${encodeURIComponent(id)}`;
      const body = await c.req.parseBody();
      const form: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(body)) if (typeof v === "string") form[k] = v;
      let done: string;
      try {
        const zone = await viewerTimeZone(auth, principalOf(c));
        const a = toAction(form, zone);
        done = a.done;
        await actOnAlerts(alertDeps, ctxFrom(c), [id], a.action);
      } catch (err) {
        return redirectWithError(c, back, err);
      }
      return redirectWithFlash(c, back, { kind: "ok", text: done });
    });

  act("acknowledge", (f) => ({ action: { kind: "acknowledge", note: f.note?.trim() || undefined }, done: "Acknowledged: you are on it. Escalation stops." }));
  act("close", (f) => ({ action: { kind: "close", reason: f.reason?.trim() || undefined }, done: "Closed." }));
  act("silence", (f, zone) => {
    const s = silenceChoice(f.silence ?? "", f.until, auth.clock.now(), zone);
    return { action: { kind: "silence", until: s.at }, done: `Silenced ${s.label}: no notifications until then.` };
  });
  act("unsilence", () => ({ action: { kind: "silence", until: null }, done: "Silence lifted: notifications resume." }));

  return app;
}

function Head(p: { alert: AlertRow; label?: DeviceLabel; now: Date; zone: string }): VNode {
  const a = p.alert;
  return html`<header class="alert-head">
    <div class="alert-badges">
      ${SeverityBadge({ severity: a.severity })} ${AlertStatusBadge({ status: a.status })} ${AlertOwner({ alert: a })}
      ${AlertMarkers({ alert: a, now: p.now, timeZone: p.zone })}
    </div>
    <h1>${a.summary}</h1>
    <p class="muted">
      Opened ${RelativeTime({ t: a.opened_at, now: p.now, timeZone: p.zone })} on ${DeviceLink({ id: a.device_id, name: p.label?.name })}${p.label?.siteName || a.site_id
        ? html` at ${p.label?.siteName ?? a.site_id}`
        : null}${" "}
      · ${a.trigger_count === 1 ? "fired once" : `fired ${formatCount(a.trigger_count)} times`}
    </p>
  </header>`;
}

function Actions(p: { c: Context<HttpEnv>; alert: AlertRow; now: Date; zone: string }): VNode {
  const a = p.alert;
  if (a.status === "CLOSED") return html`<section class="card" aria-label="Actions"><p class="muted">Closed alerts need nothing more. If it happens again, it opens again${a.rule_id ? " (within the rule's re-open window, as this same alert)" : ""}.</p></section>`;
  const base = `/alerts/${a.id}`;
  const silenced = a.silenced_until && a.silenced_until > p.now;
  const tomorrow = new Date(p.now.getTime() + 24 * HOUR);
  return html`<section class="card actions-card" aria-labelledby="actions-title">
    <h2 id="actions-title">Act</h2>
    ${a.status === "OPEN"
      ? html`<form method="post" action=${`${base}/acknowledge`} class="action-form" data-action="acknowledge">
          ${CsrfField(p.c)}
          <label class="visually-hidden" for="ack-note">Note (optional)</label>
          <input id="ack-note" type="text" name="note" maxlength="500" placeholder="Note (optional)" autocomplete="off" />
          <button class="btn btn-primary" type="submit">Acknowledge</button>
          <p class="hint">Tells everyone you are on it and stops escalation.</p>
        </form>`
      : null}
    <form method="post" action=${`${base}/close`} class="action-form" data-action="close">
      ${CsrfField(p.c)}
      <label class="visually-hidden" for="close-reason">Reason for closing</label>
      <input id="close-reason" type="text" name="reason" maxlength="500" placeholder="Reason, e.g. replaced the fan" autocomplete="off" />
      <button class="btn" type="submit">Close</button>
      <p class="hint">The reason goes into the timeline.</p>
    </form>
    <form method="post" action=${`${base}/silence`} class="action-form silence-form" data-action="silence">
      ${CsrfField(p.c)}
      <fieldset class="plain-fieldset">
        <legend class="label-like">Silence notifications</legend>
        <div class="choice-row">
          ${SILENCE_PRESETS.map(
            (s, i) => html`<label class="choice"><input type="radio" name="silence" value=${s.value} checked=${i === 1} /> ${s.label}</label>`,
          )}
          <label class="choice"><input type="radio" name="silence" value="custom" data-silence-custom /> Until…</label>
          <label class="visually-hidden" for="silence-until">Silence until (${p.zone})</label>
          <input id="silence-until" type="datetime-local" name="until" class="input-sm" value=${localInputValue(tomorrow, p.zone)} />
        </div>
      </fieldset>
      <button class="btn" type="submit">Silence</button>
      <p class="hint">Custom times are in ${p.zone}. The alert stays in the inbox; only notifications pause.</p>
    </form>
    ${silenced
      ? html`<form method="post" action=${`${base}/unsilence`} class="action-form" data-action="unsilence">
          ${CsrfField(p.c)}
          <span>Silenced until <strong>${absoluteTime(a.silenced_until!, p.zone)}</strong>.</span>
          <button class="btn btn-sm" type="submit">Lift the silence</button>
        </form>`
      : null}
  </section>`;
}

function Facts(p: { alert: AlertRow; label?: DeviceLabel; rule?: Rule; now: Date; zone: string }): VNode {
  const a = p.alert;
  const when = (t: Date) => html`${absoluteTime(t, p.zone)} <span class="muted">(${RelativeTime({ t, now: p.now, timeZone: p.zone })})</span>`;
  return html`<dl class="facts" data-facts="alert">
    <dt>Device</dt>
    <dd>${DeviceLink({ id: a.device_id, name: p.label?.name })}</dd>
    <dt>Site</dt>
    <dd>${p.label?.siteName ?? a.site_id ?? html`<span class="muted">—</span>`}</dd>
    <dt>Type</dt>
    <dd>${a.alert_type === "THRESHOLD" ? "Threshold rule" : "No heartbeat"}</dd>
    ${a.rule_id
      ? html`<dt>Rule</dt>
          <dd>${p.rule ? html`<a href=${`/alert-rules/${p.rule.id}`}>${p.rule.name}</a>` : html`<span class="muted">deleted</span>`}</dd>`
      : null}
    ${a.metric_name
      ? html`<dt>Metric</dt>
          <dd><code>${a.metric_name}</code></dd>`
      : null}
    ${a.last_value !== null && a.last_value !== undefined
      ? html`<dt>Last value</dt>
          <dd>${eventValue(a.last_value)}</dd>`
      : null}
    <dt>Opened</dt>
    <dd>${when(a.opened_at)}</dd>
    <dt>Last fired</dt>
    <dd>${when(a.last_triggered_at)}</dd>
    <dt>Triggers</dt>
    <dd>${formatCount(a.trigger_count)}</dd>
    ${a.acknowledged_at
      ? html`<dt>Acknowledged</dt>
          <dd>by ${a.acknowledged_by}, ${when(a.acknowledged_at)}</dd>`
      : null}
    ${a.closed_at
      ? html`<dt>Closed</dt>
          <dd>by ${a.closed_by}, ${when(a.closed_at)}${a.close_reason ? html`<br /><span class="muted">${a.close_reason}</span>` : null}</dd>`
      : null}
    ${a.suppressed
      ? html`<dt>Maintenance</dt>
          <dd>Raised during a maintenance window: recorded, not notified.</dd>`
      : null}
  </dl>`;
}
