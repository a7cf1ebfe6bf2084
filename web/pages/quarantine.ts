// Quarantine: the messages ingest refused, newest first, with the reason in
// words, where they came from and the start of what was sent (escaped,
// shortened; provision tokens were masked before they were stored). Counts
// per reason since the start sit on top; filters (reason, device, time, and
// for operators the tenant) live in the URL. Operators see every tenant.

import { Hono, type Context } from "hono";
import { callerFrom, principalOf } from "../../src/auth/middleware.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import { REASONS } from "../../src/ingest/parse.ts";
import { countsByReason, listQuarantined, listRejectionCountsOf, readsAcrossTenants, type QuarantinedMessage } from "../../src/ingest/quarantine-read.ts";
import { AppError } from "../../src/lib/errors.ts";
import { listTenants } from "../../src/tenants/service.ts";
import type { Auth } from "../../src/auth/index.ts";
import { Badge } from "../components/badges.ts";
import { formatBytes, formatCount, RelativeTime } from "../components/format.ts";
import { KpiCard, KpiStrip } from "../components/kpi.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { DataTable, FilterBar, withQuery, type Column } from "../components/table.ts";
import { html, type VNode } from "../render.ts";
import { viewerTimeZone } from "./account.ts";

/** What each reason code means, in a sentence (PROTOCOL.md). */
export const REASON_WORDS: Record<string, string> = {
  PAYLOAD_TOO_LARGE: "The message was bigger than the size limit (8 KiB unless configured otherwise).",
  INVALID_JSON: "The body was not a JSON object, or ts or seq could not be read.",
  INVALID_TOPIC: "The topic or path was not tenant/{tenant}/device/{device}/telemetry|heartbeat, the body named another device, or a connection published for a device other than its own.",
  UNSUPPORTED_VERSION: 'The envelope\'s version was not "1".',
  MISSING_METRICS: "A telemetry message without any metric.",
  INVALID_METRIC: "A metric name or value that is not allowed: names are letters, digits, _ . -; values finite numbers, booleans or strings of at most 64 characters.",
  FUTURE_TIMESTAMP: "The ts was more than 60 s ahead of the server's clock: check the device's clock.",
  STALE_TIMESTAMP: "The ts was more than 30 days old.",
  UNREGISTERED_DEVICE: "No device with this id is registered in the tenant.",
  DEVICE_REVOKED: "The device is decommissioned; its messages are refused until it is recommissioned.",
  SITE_MISMATCH: "The message's site_id differs from the device's site in the registry.",
  TOKEN_MISSING: "No provision token: not in the X-Provision-Token header, the envelope or the MQTT password.",
  TOKEN_INVALID: "The provision token was wrong, revoked or expired.",
  RATE_LIMITED: "The device sent faster than its per-device rate limit.",
  SUBSCRIPTION_SUSPENDED: "The tenant is suspended; its devices are refused until it is reactivated.",
  DEVICE_LIMIT: "The tenant has more devices than its limit allows.",
};

const RANGES: Record<string, { label: string; ms: number }> = {
  "1h": { label: "Last hour", ms: 3_600_000 },
  "24h": { label: "Last 24 h", ms: 86_400_000 },
  "7d": { label: "Last 7 days", ms: 7 * 86_400_000 },
};
const PAYLOAD_SHOWN = 160;
const UNKNOWN_TENANT = "-";

export function quarantinePages(env: PageEnv, auth: Auth): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  const deps = { db: auth.db };

  app.get("/quarantine", async (c) => {
    const caller = callerFrom(c);
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const across = readsAcrossTenants(caller);
    if (!across && !caller.tenantId) throw new AppError("forbidden", "choose a tenant first");
    const zone = await viewerTimeZone(auth, principalOf(c));
    const now = auth.clock.now();
    const reason = (REASONS as readonly string[]).includes(q.get("reason") ?? "") ? q.get("reason")! : undefined;
    const range = RANGES[q.get("range") ?? ""];
    const tenantParam = across ? (q.get("tenant") ?? "") : "";
    const tenantId = tenantParam === UNKNOWN_TENANT ? "" : tenantParam || undefined;
    let page: Awaited<ReturnType<typeof listQuarantined>>;
    let problem: string | undefined;
    const query = { reason, deviceId: q.get("device") ?? undefined, from: range ? new Date(now.getTime() - range.ms) : undefined, tenantId, cursor: q.get("cursor") ?? undefined, limit: 50 };
    try {
      page = await listQuarantined(deps, caller, query);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      problem = err.message;
      page = await listQuarantined(deps, caller, { ...query, cursor: undefined, deviceId: undefined });
    }
    const counts = countsByReason(await listRejectionCountsOf(deps, caller, { tenantId: tenantId || undefined }));
    const tenants = across ? await listTenants({ db: auth.db, clock: auth.clock }, caller) : [];
    const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
    const total = counts.reduce((n, r) => n + r.count, 0);

    const columns: Column<QuarantinedMessage>[] = [
      { key: "time", label: "When", cell: (m) => RelativeTime({ t: m.time, now, timeZone: zone }), class: "nowrap" },
      ...(across
        ? [{ key: "tenant", label: "Tenant", cell: (m: QuarantinedMessage) => (m.tenantId ? (tenantName.get(m.tenantId) ?? m.tenantId) : html`<span class="muted" title="The message named a tenant that does not exist">unknown</span>`) }]
        : []),
      {
        key: "device",
        label: "Device",
        cell: (m) => (m.deviceId ? html`<a class="mono" href=${withQuery(url, { device: m.deviceId, cursor: null })} title="Only this device's messages">${m.deviceId}</a>` : html`<span class="muted">—</span>`),
      },
      { key: "reason", label: "Reason", cell: (m) => ReasonBadge(m.reason) },
      { key: "detail", label: "Detail", cell: (m) => html`<span class="q-detail">${m.detail ?? ""}</span>` },
      { key: "via", label: "Via", class: "hide-narrow", cell: (m) => html`<span class="small">${m.transport.toUpperCase()}</span>${m.topic ? html`<div class="mono small muted q-topic">${m.topic}</div>` : null}` },
      { key: "payload", label: "Payload", cell: (m) => Payload(m) },
    ];

    return renderPage(
      c,
      env,
      { title: "Quarantine", active: "quarantine" },
      html`${PageHeader({
          title: "Quarantine",
          description: across
            ? "Messages ingest refused, in every tenant, newest first. Each tenant keeps its latest 1,000; the counts go back to the start."
            : "Messages from your devices that ingest refused, newest first. The latest 1,000 are kept; the counts go back to the start.",
        })}
        ${counts.length
          ? KpiStrip({
              label: "Refused messages by reason",
              children: [
                KpiCard({ label: "All reasons", name: "rejected-total", value: formatCount(total), hint: "since the start", href: withQuery(url, { reason: null, cursor: null }) }),
                ...counts.slice(0, 7).map((r) =>
                  KpiCard({
                    label: r.reason,
                    name: `rejected-${r.reason}`,
                    value: formatCount(r.count),
                    hint: html`last ${RelativeTime({ t: r.lastAt, now, timeZone: zone })}`,
                    href: withQuery(url, { reason: r.reason, cursor: null }),
                    tone: reason === r.reason ? "accent" : undefined,
                  }),
                ),
              ],
            })
          : null}
        ${problem ? html`<div class="flash flash-error" role="alert">${problem}</div>` : null}
        ${FilterBar({
          url,
          search: { name: "device", label: "Device id", placeholder: "Device id" },
          selects: [
            { name: "reason", label: "Reason", options: [{ value: "", label: "Any" }, ...REASONS.map((r) => ({ value: r, label: r }))] },
            { name: "range", label: "Time", options: [{ value: "", label: "Any time" }, ...Object.entries(RANGES).map(([k, r]) => ({ value: k, label: r.label }))] },
            ...(across
              ? [{ name: "tenant", label: "Tenant", options: [{ value: "", label: "Every tenant" }, ...tenants.map((t) => ({ value: t.id, label: t.name })), { value: UNKNOWN_TENANT, label: "Unknown tenants" }] }]
              : []),
          ],
          keep: [],
        })}
        ${DataTable({
          label: "Refused messages",
          columns,
          rows: page.items,
          url,
          rowKey: (m) => String(m.id),
          filters: ["device", "reason", "range", "tenant"],
          empty: {
            icon: "check",
            title: "Nothing refused",
            body: "Every message that reached Pulse was accepted. Messages with a bad token, an unknown device or a malformed body would show here with the reason.",
          },
          pagination: page.items.length
            ? { url, prev: q.get("cursor") ? { cursor: null } : null, next: page.nextCursor ? { cursor: page.nextCursor } : null, summary: `${formatCount(page.items.length)} shown, newest first` }
            : undefined,
        })}
        ${Legend(reason)}`,
    );
  });

  return app;
}

function ReasonBadge(reason: string): VNode {
  return html`<span class="q-reason" data-reason=${reason} title=${REASON_WORDS[reason] ?? ""}>${Badge({ tone: reason === "RATE_LIMITED" ? "warn" : "bad", text: reason })}</span>`;
}

function Payload(m: QuarantinedMessage): VNode {
  if (m.payload === null || m.payload === "") return html`<span class="muted">—</span>`;
  const p = m.payload;
  if (p.length <= PAYLOAD_SHOWN) return html`<code class="q-payload">${p}</code>`;
  return html`<details class="q-more">
    <summary><code class="q-payload">${p.slice(0, PAYLOAD_SHOWN)}…</code></summary>
    <pre class="q-payload-full">${p}</pre>
    <span class="muted small">First ${formatBytes(new TextEncoder().encode(p).length)} as received.</span>
  </details>`;
}

function Legend(current: string | undefined): VNode {
  return html`<details class="card section-gap q-legend" open=${current ? true : undefined}>
    <summary><strong>What the reasons mean</strong></summary>
    <dl class="kv small">
      ${REASONS.map((r) => html`<dt><code>${r}</code></dt><dd>${REASON_WORDS[r]}</dd>`)}
    </dl>
  </details>`;
}
