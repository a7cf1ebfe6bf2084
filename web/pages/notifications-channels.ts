// Notification channels: the list (type, state with the reason a channel was
// switched off, whether its circuit is paused after failures, which secrets
// are set, how many routing rules use it) and one channel's page — its
// settings (secrets only as "set"), Send test with the receiver's answer,
// Preview of what it would send, enable/disable, delete, and what the
// receiver needs to know: how to verify a webhook's signatures (with secret
// rotation) or an SNMP receiver's engine id and MIB. Creating and editing
// are in notifications-channel-form.ts.

import { Hono, type Context } from "hono";
import { ctxFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { can } from "../../src/lib/ctx.ts";
import type { Preview } from "../../src/notify/channel.ts";
import {
  deleteNotificationChannel,
  getNotificationChannel,
  listNotificationChannels,
  listNotificationRoutes,
  previewChannel,
  testChannel,
  updateNotificationChannel,
  type Channel,
} from "../../src/notify/service.ts";
import { Badge } from "../components/badges.ts";
import { channelForm, TypeMark } from "../components/channel-forms.ts";
import { EmptyState } from "../components/empty.ts";
import { ConfirmAction, CsrfField, redirectWithError } from "../components/form.ts";
import { absoluteTime, formatCount, relativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { redirectWithFlash, renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, parseSort, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";
import { channelFormPages, WebhookVerify } from "./notifications-channel-form.ts";
import { needsTenant, NotifyTabs, sortRows, type NotifyPageDeps } from "./notifications-common.ts";

export type TestResult = Awaited<ReturnType<typeof testChannel>>;

export function channelPages(env: PageEnv, deps: NotifyPageDeps): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const { auth, notify } = deps;

  app.get("/notifications", async (c) => {
    const blocked = needsTenant(c, env, "channels");
    if (blocked) return blocked;
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const [channels, routes, zone] = await Promise.all([listNotificationChannels(notify, ctx), listNotificationRoutes(notify, ctx), viewerTimeZone(auth, principalOf(c))]);
    const routeCount = new Map<string, number>();
    for (const r of routes) routeCount.set(r.channel_id, (routeCount.get(r.channel_id) ?? 0) + 1);
    const now = auth.clock.now();
    const columns: Column<Channel>[] = [
      { key: "name", label: "Channel", sort: true, class: "name-col", cell: (ch) => html`<span class="person"><span class="person-name">${ch.name}</span><span class="person-sub muted">${TypeMark({ type: ch.type })}</span></span>` },
      { key: "state", label: "State", sort: true, cell: (ch) => StateCell(ch) },
      { key: "health", label: "Deliveries", sort: "desc", cell: (ch) => Health({ ch, now, zone }) },
      { key: "secrets", label: "Secrets", class: "hide-narrow", cell: (ch) => SecretsSet(ch) },
      {
        key: "routes",
        label: "Routing rules",
        numeric: true,
        sort: "desc",
        cell: (ch) => {
          const n = routeCount.get(ch.id) ?? 0;
          return n ? formatCount(n) : html`<span class="muted" title="Nothing is routed here yet">none</span>`;
        },
      },
      ...(admin
        ? [
            {
              key: "actions",
              label: "",
              class: "actions-col",
              cell: (ch: Channel) => html`<div class="row-actions">
                <form method="post" action=${`/notifications/channels/${ch.id}/test`} class="inline-form">
                  ${CsrfField(c)}<button class="btn btn-sm" type="submit" data-action="test">Send test</button>
                </form>
                ${EnableToggle({ c, ch, small: true })}
              </div>`,
            },
          ]
        : []),
    ];
    const sort = parseSort(c.req.url, columns, { key: "name", dir: "asc" });
    const sortKey: Record<string, (ch: Channel) => string | number> = {
      name: (ch) => ch.name.toLowerCase(),
      state: (ch) => (ch.enabled ? 0 : 1),
      health: (ch) => ch.consecutiveFailures,
      routes: (ch) => routeCount.get(ch.id) ?? 0,
    };
    const rows = sortRows(channels, sortKey[sort.key] ?? sortKey.name!, sort.dir);
    return renderPage(
      c,
      env,
      { title: "Notifications", active: "notifications" },
      html`${PageHeader({
          title: "Notifications",
          description: admin
            ? "Channels are where notifications go; routing rules decide which alerts reach which channel."
            : "Channels are where notifications go; routing rules decide which alerts reach which channel (read-only: tenant-admins change them).",
          actions: admin ? html`<a class="btn btn-primary" href="/notifications/channels/new">New channel</a>` : undefined,
        })}
        ${NotifyTabs({ current: "channels" })}
        ${DataTable({
          label: "Channels",
          columns,
          rows,
          sort,
          url: c.req.url,
          rowHref: (ch) => `/notifications/channels/${ch.id}`,
          rowKey: (ch) => ch.id,
          empty: {
            title: "No channels yet",
            body: admin
              ? "Add one — a webhook, Slack, PagerDuty, Teams, email, SNMP or MQTT — then a routing rule that sends alerts to it."
              : "A tenant-admin adds them: a webhook, Slack, PagerDuty, Teams, email, SNMP or MQTT.",
            actions: admin ? [{ label: "New channel", href: "/notifications/channels/new", primary: true }] : [],
          },
        })}`,
    );
  });

  // Creating and editing (registered before /:id so "new" is not an id).
  app.route("/", channelFormPages(env, deps));

  app.get("/notifications/channels/:id", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const preview = c.req.query("preview") ? await previewChannel(notify, ctx, id) : undefined;
    return channelPage(c, await getNotificationChannel(notify, ctx, id), { preview });
  });

  app.post("/notifications/channels/:id/test", async (c) => {
    const ctx = ctxFrom(c);
    const ch = await getNotificationChannel(notify, ctx, c.req.param("id"));
    const result = await testChannel(notify, ctx, ch.id);
    c.header("Cache-Control", "no-store");
    return channelPage(c, ch, { test: result });
  });

  for (const [action, enabled] of [["enable", true], ["disable", false]] as const) {
    app.post(`/notifications/channels/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      let ch: Channel;
      try {
        ch = await updateNotificationChannel(notify, ctxFrom(c), id, { enabled });
      } catch (err) {
        return redirectWithError(c, `/notifications/channels/${id}`, err);
      }
      const text = enabled
        ? `Enabled “${ch.name}”: it receives notifications again, with its failure count reset.`
        : `Disabled “${ch.name}”: nothing is sent to it; what is routed to it becomes a dead letter you can replay after enabling it.`;
      return redirectWithFlash(c, back(c, `/notifications/channels/${id}`), { kind: "ok", text });
    });
  }

  app.post("/notifications/channels/:id/delete", async (c) => {
    const ctx = ctxFrom(c);
    const id = c.req.param("id");
    const ch = await getNotificationChannel(notify, ctx, id).catch(() => undefined);
    try {
      await deleteNotificationChannel(notify, ctx, id);
    } catch (err) {
      return redirectWithError(c, "/notifications", err);
    }
    return redirectWithFlash(c, "/notifications", { kind: "ok", text: `Deleted “${ch?.name ?? "the channel"}” with its routing rules and its deliveries.` });
  });

  async function channelPage(c: Context<HttpEnv>, ch: Channel, extra: { test?: TestResult; preview?: Preview }): Promise<Response> {
    const ctx = ctxFrom(c);
    const admin = can(ctx, "admin");
    const zone = await viewerTimeZone(auth, principalOf(c));
    const routes = (await listNotificationRoutes(notify, ctx)).filter((r) => r.channel_id === ch.id);
    const now = auth.clock.now();
    return renderPage(
      c,
      env,
      { title: ch.name, active: "notifications" },
      html`<nav class="breadcrumbs" aria-label="Breadcrumbs"><a href="/notifications">Notifications</a><span aria-hidden="true"> / </span><span>Channel</span></nav>
        ${PageHeader({
          title: ch.name,
          description: html`${TypeMark({ type: ch.type })} · ${StateCell(ch)}`,
          actions: ChannelActions({ c, ch, admin }),
        })}
        ${extra.test ? TestResultCard(extra.test) : null} ${extra.preview ? PreviewCard(extra.preview) : null}
        <div class="columns wide-first">
          <div class="stack">
            ${SettingsCard(ch, zone)}
            ${ch.type === "webhook" ? WebhookVerify({ c, ch, admin }) : null}
            ${ch.type === "snmp" ? SnmpCard(ch) : null}
          </div>
          <div class="stack">
            <section class="card" aria-labelledby="health-title">
              <h2 id="health-title">Deliveries</h2>
              ${Health({ ch, now, zone })}
              <p class="section-gap"><a href=${`/notifications/deliveries?channel=${ch.id}`}>Delivery log of this channel</a></p>
              <p><a href=${`/notifications/deliveries?channel=${ch.id}&status=dead`}>Its dead letters</a></p>
            </section>
            <section class="card" aria-labelledby="routes-title">
              <h2 id="routes-title">Routing rules</h2>
              ${routes.length
                ? html`<ul class="plain-list">
                    ${routes.map((r) => html`<li><a href=${`/notifications/routes/${r.id}`}>${r.name}</a>${r.enabled ? null : html` <span class="muted">(disabled)</span>`}</li>`)}
                  </ul>`
                : html`<p class="muted">No routing rule sends alerts here yet.</p>`}
              ${admin ? html`<a class="btn btn-sm" href=${`/notifications/routes/new?channel=${ch.id}`}>New routing rule for this channel</a>` : null}
            </section>
          </div>
        </div>`,
    );
  }

  return app;
}

/** Where an inline action returns: the page it came from when that is one of ours. */
function back(c: Context<HttpEnv>, fallback: string): string {
  const ref = c.req.header("referer");
  if (!ref) return fallback;
  try {
    const u = new URL(ref);
    return u.host === new URL(c.req.url).host && u.pathname.startsWith("/notifications") && !u.pathname.endsWith("/test") ? u.pathname + u.search : fallback;
  } catch {
    return fallback;
  }
}

function ChannelActions(p: { c: Context<HttpEnv>; ch: Channel; admin: boolean }): VNode {
  const { c, ch } = p;
  const preview = html`<a class="btn" href=${`/notifications/channels/${ch.id}?preview=1#preview`}>Preview</a>`;
  if (!p.admin) return preview;
  return html`<form method="post" action=${`/notifications/channels/${ch.id}/test`} class="inline-form">
      ${CsrfField(c)}<button class="btn btn-primary" type="submit" data-action="test">Send test</button>
    </form>
    ${preview}
    <a class="btn" href=${`/notifications/channels/${ch.id}/edit`}>Edit</a>
    ${EnableToggle({ c, ch })}
    ${ConfirmAction({
      c,
      label: "Delete",
      action: `/notifications/channels/${ch.id}/delete`,
      message: html`Delete <strong>${ch.name}</strong>? Its routing rules and queued deliveries go too, with its delivery log. Alerts are no longer sent here. This is recorded in the audit log.`,
      confirm: "Delete channel",
    })}`;
}

function EnableToggle(p: { c: Context<HttpEnv>; ch: Channel; small?: boolean }): VNode {
  const action = p.ch.enabled ? "disable" : "enable";
  return html`<form method="post" action=${`/notifications/channels/${p.ch.id}/${action}`} class="inline-form">
    ${CsrfField(p.c)}<button class=${"btn" + (p.small ? " btn-sm" : "")} type="submit" data-action=${action}>${p.ch.enabled ? "Disable" : "Enable"}</button>
  </form>`;
}

function StateCell(ch: Channel): VNode {
  return html`<span class="channel-state" data-state=${ch.enabled ? "enabled" : "disabled"}>
    ${ch.enabled ? Badge({ tone: "ok", text: "ENABLED", icon: "check" }) : Badge({ tone: "idle", text: "DISABLED", icon: "dash" })}
    ${!ch.enabled && ch.disabledReason ? html`<span class="disabled-reason small" data-disabled-reason>${sentenceCase(ch.disabledReason)}</span>` : null}
  </span>`;
}

/** "14:02" in the zone. */
const clockTime = (t: Date, zone: string) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(t);

const sentenceCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Healthy, failing (n in a row) or paused until a time (the circuit breaker). */
function Health(p: { ch: Channel; now: Date; zone: string }): VNode {
  const { ch } = p;
  const failures = ch.consecutiveFailures === 1 ? "1 failure in a row" : `${formatCount(ch.consecutiveFailures)} failures in a row`;
  if (ch.circuitOpenUntil && ch.circuitOpenUntil > p.now)
    return html`<span class="health" data-health="paused">
      ${Badge({ tone: "warn", text: "PAUSED", icon: "stale" })}
      <span class="small"
        >until <time datetime=${ch.circuitOpenUntil.toISOString()} title=${absoluteTime(ch.circuitOpenUntil, p.zone)}>${clockTime(ch.circuitOpenUntil, p.zone)}</time>
        (${relativeTime(ch.circuitOpenUntil, p.now)}) <span class="muted">· ${failures}</span></span
      >
    </span>`;
  if (ch.consecutiveFailures > 0) return html`<span class="health" data-health="failing">${Badge({ tone: "warn", text: "FAILING", icon: "stale" })} <span class="small">${failures}</span></span>`;
  return html`<span class="health muted small" data-health="ok">No recent failures</span>`;
}

function SecretsSet(ch: Channel): VNode {
  const secretFields = channelForm(ch.type)?.fields.filter((f) => f.secret) ?? [];
  if (!secretFields.length && !ch.secretsSet.length) return html`<span class="muted">none</span>`;
  const names = [...new Set([...secretFields.map((f) => f.name), ...ch.secretsSet])];
  return html`<span class="secret-chips">
    ${names.map((n) => {
      const set = ch.secretsSet.includes(n);
      return html`<span class=${"secret-chip" + (set ? " is-set" : "")} data-secret-field=${n} title=${set ? "Set (write-only)" : "Not set"}>${n}<span class="visually-hidden">${set ? " set" : " not set"}</span>${set ? " ✓" : " –"}</span>`;
    })}
  </span>`;
}

function SettingsCard(ch: Channel, zone: string): VNode {
  const form = channelForm(ch.type);
  const values = form?.values(ch.config) ?? {};
  const rows: Array<[string, VNode | string]> = [];
  if (ch.type === "mqtt") rows.push(["Broker", ch.config.broker ? html`<code>${String(ch.config.broker)}</code>` : "Pulse's embedded broker"]);
  for (const f of form?.fields ?? []) {
    if (f.secret) {
      rows.push([f.label, ch.secretsSet.includes(f.name) ? html`<span data-secret-field=${f.name}>set <span class="muted">(write-only)</span></span>` : html`<span class="muted" data-secret-field=${f.name}>not set</span>`]);
      continue;
    }
    if (f.when && values[f.when.field] !== f.when.value) continue;
    const v = values[f.name] ?? "";
    if (f.kind === "checkbox") rows.push([f.short ?? f.label, v === "on" ? "yes" : "no"]);
    else if (f.kind === "select" || f.kind === "radio") rows.push([f.label, f.options?.find((o) => o.value === v)?.label ?? (v || "—")]);
    else rows.push([f.label, v ? (f.mono || f.headers || f.kind === "textarea" ? html`<pre class="setting-text">${v}</pre>` : v) : html`<span class="muted">—</span>`]);
  }
  if (ch.type === "webhook" && ch.secretsSet.includes("previous_secret")) rows.push(["Previous secret", html`<span data-secret-field="previous_secret">set, still signing</span>`]);
  return html`<section class="card" aria-labelledby="settings-title">
    <h2 id="settings-title">Settings</h2>
    <dl class="facts channel-settings">
      ${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
      <dt>Created</dt>
      <dd>${absoluteTime(ch.createdAt, zone)}</dd>
    </dl>
  </section>`;
}

function TestResultCard(r: TestResult): VNode {
  return html`<section class="card test-result section-gap" aria-labelledby="test-title" data-test-result=${r.ok ? "ok" : "failed"} role="status">
    <h2 id="test-title">Test send: ${r.ok ? Badge({ tone: "ok", text: "DELIVERED", icon: "check" }) : Badge({ tone: "bad", text: "FAILED", icon: "offline" })}</h2>
    <p class="muted">A test notification went out just now (not queued, not retried). What the receiver answered:</p>
    <dl class="facts">
      <dt>Status</dt>
      <dd data-test-status>${r.statusCode ?? html`<span class="muted">no status code</span>`}</dd>
      <dt>Time taken</dt>
      <dd data-test-latency>${formatCount(r.latencyMs)} ms</dd>
      ${r.error ? html`<dt>Error</dt><dd class="test-error" data-test-error>${r.error}</dd>` : null}
      <dt>Response</dt>
      <dd>${r.response ? html`<pre class="setting-text" data-test-response>${r.response}</pre>` : html`<span class="muted">empty</span>`}</dd>
    </dl>
  </section>`;
}

function PreviewCard(p: Preview): VNode {
  return html`<section class="card section-gap" id="preview" aria-labelledby="preview-title" data-preview>
    <h2 id="preview-title">Preview</h2>
    <p class="muted">What this channel sends when a sample alert fires (nothing was sent). Content type <code>${p.contentType}</code>.</p>
    <pre class="preview-body">${p.body}</pre>
  </section>`;
}

function SnmpCard(ch: Channel): VNode {
  const c = ch.config as { version?: string; user?: string; authProtocol?: string; engine_id?: string | null; enterprise_oid?: string; trap_oids?: Record<string, string>; mib?: string };
  const engine = c.engine_id ?? null;
  return html`<section class="card" aria-labelledby="snmp-title" data-snmp>
    <h2 id="snmp-title">For the trap receiver</h2>
    <dl class="facts">
      ${c.version === "3" ? html`<dt>Engine id</dt><dd><code data-engine-id>${engine ?? "unknown"}</code></dd>` : null}
      <dt>Enterprise OID</dt>
      <dd><code>${c.enterprise_oid ?? ""}</code></dd>
      ${Object.entries(c.trap_oids ?? {}).map(([k, v]) => html`<dt>Trap: ${k}</dt><dd><code>${v}</code></dd>`)}
    </dl>
    <p class="section-gap"><a class="btn btn-sm" href=${c.mib ?? "/api/v1/notification-channels/snmp/mib"} download="PULSE-MIB.txt" data-mib>Download the MIB (PULSE-MIB.txt)</a></p>
    ${c.version === "3"
      ? html`<p class="muted small">SNMPv3 traps come from this installation's engine id; tell the receiver, e.g. for snmptrapd:</p>
          <pre class="setting-text">${`createUser -e 0x${engine ?? "<engine id>"} ${c.user ?? "<user>"} ${c.authProtocol === "sha256" ? "SHA-256" : "SHA"} "<auth key>" AES "<priv key>"`}</pre>`
      : html`<p class="muted small">For snmptrapd: <code>${"authCommunity log <community>"}</code>.</p>`}
  </section>`;
}

