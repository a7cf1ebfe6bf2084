// What the device pages share: their dependencies, the badges for a
// device's registry status and connectivity (the same words and colours on
// the list, the preview pane and the device page), tags as chips, the
// ready-made commands a device's credentials come with, and the page shown
// to someone who works in no tenant.

import type { Context } from "hono";
import type { Auth } from "../../src/auth/index.ts";
import type { DeviceDeps } from "../../src/devices/deps.ts";
import type { Device } from "../../src/devices/service.ts";
import type { HttpEnv } from "../../src/http/env.ts";
import type { Caller } from "../../src/lib/ctx.ts";
import { Badge, StatusBadge } from "../components/badges.ts";
import { EmptyState } from "../components/empty.ts";
import { SecretOnce } from "../components/form.ts";
import { absoluteTime, formatValue, humanDuration, relativeTime } from "../components/format.ts";
import { PageHeader } from "../components/page-header.ts";
import { renderPage, type PageEnv } from "../components/page.ts";
import { html, type VNode } from "../render.ts";

export interface DevicePageDeps {
  auth: Auth;
  /** The registry's dependencies: changes reach this node's ingest cache at once. */
  devices: DeviceDeps;
  /** The MQTT (TCP) port devices connect to; 0 when the broker is off. */
  mqttPort: () => number;
}

/** The page for someone who works in no tenant (an operator on the platform view). */
export function chooseTenantPage(c: Context<HttpEnv>, env: PageEnv, p: { title: string; active: string; what: string }): Response {
  return renderPage(
    c,
    env,
    { title: p.title, active: p.active },
    html`${PageHeader({ title: p.title })}
      ${EmptyState({
        title: "Choose a tenant first",
        body: `${p.what} belong to a tenant. Choose the tenant to work in (top bar or your account page) to see them.`,
        actions: [{ label: "Your account", href: "/account" }],
      })}`,
  );
}

/** Whether the caller works in a tenant (device pages need one). */
export const inTenant = (caller: Caller): boolean => !!caller.tenantId;

/** ACTIVE / PENDING / REVOKED: where the device stands in the registry. */
export function RegistryBadge(p: { status: Device["status"] }): VNode {
  if (p.status === "ACTIVE") return Badge({ tone: "ok", text: "ACTIVE", icon: "check", title: "Registered; its messages are accepted" });
  if (p.status === "PENDING") return Badge({ tone: "warn", text: "PENDING", icon: "stale", title: "Waiting for activation: it has no provision token yet" });
  return Badge({ tone: "idle", text: "REVOKED", icon: "dash", title: "Decommissioned: its messages are refused with DEVICE_REVOKED" });
}

/**
 * ONLINE / STALE / OFFLINE with "since" on hover. Only ACTIVE devices are
 * tracked; for the others a dash says there is nothing to track.
 */
export function ConnectivityBadge(p: { device: Device; now: Date; timeZone: string }): VNode {
  const d = p.device;
  if (d.status !== "ACTIVE") return html`<span class="muted" title=${`Not tracked while ${d.status}`}>—</span>`;
  const since = d.connectivitySince ? `${d.connectivity} since ${absoluteTime(d.connectivitySince, p.timeZone)}` : `${d.connectivity}: never heard from`;
  const seen = d.lastSeenAt ? `; last seen ${relativeTime(d.lastSeenAt, p.now)}` : "";
  return StatusBadge({ status: d.connectivity, title: since + seen });
}

/** Tags as key=value chips; a dash when there are none. */
export function TagChips(p: { tags: Record<string, string>; max?: number }): VNode {
  const entries = Object.entries(p.tags);
  if (!entries.length) return html`<span class="muted">—</span>`;
  const shown = p.max ? entries.slice(0, p.max) : entries;
  return html`<span class="tag-chips">
    ${shown.map(([k, v]) => html`<span class="tag-chip" title=${`${k}=${v}`}><span class="tag-key">${k}</span>${v ? html`<span class="tag-eq">=</span>${v}` : null}</span>`)}
    ${shown.length < entries.length ? html`<span class="muted small">+${entries.length - shown.length}</span>` : null}
  </span>`;
}

/** "every 60 s (tenant default)". */
export function heartbeatText(d: Device): string {
  const s = d.effectiveHeartbeatSeconds;
  if (s === null) return "—";
  return `every ${humanDuration(s)}${d.heartbeatSeconds === null ? " (tenant default)" : ""}`;
}

/** A latest value as people read it: numbers with their unit, booleans and strings as they are. */
export function valueText(v: unknown, unit?: string | null): string {
  if (typeof v === "number") return formatValue(v, unit ?? undefined);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Tags from a textarea: one key=value per line (or separated by ';'), as the CSV's "k=v;k2=v2". */
export function tagsText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
}

// ---- Ready-made commands for a device's credentials ----

export interface Endpoint {
  /** The public URL people and devices use (public_url). */
  publicUrl: string;
  mqttPort: number;
}

/** A shell word in single quotes, safe for any text. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The envelope a first message carries, as a single-quoted shell word whose
 * ts is filled in by the shell when the command runs (a fixed time would be
 * refused as STALE_TIMESTAMP a month later).
 */
function envelopeWord(metrics: Record<string, number | boolean | string>): string {
  const rest = JSON.stringify({ metrics });
  return `'{"version":"1","ts":'"$(date +%s)"',${rest.slice(1)}'`;
}

export const EXAMPLE_METRICS = { temp_c: 21.5, battery_pct: 87 };

/** mosquitto_pub over TCP, authenticated as the device (username tenant/device, password the token). */
export function mosquittoCommand(e: Endpoint, tenantId: string, deviceId: string, token: string): string {
  const host = new URL(e.publicUrl).hostname.replace(/^\[(.*)\]$/, "$1");
  return [
    "mosquitto_pub",
    `-h ${shellQuote(host)} -p ${e.mqttPort}`,
    `-u ${shellQuote(`${tenantId}/${deviceId}`)} -P ${shellQuote(token)}`,
    `-t ${shellQuote(`tenant/${tenantId}/device/${deviceId}/telemetry`)} -q 1`,
    `-m ${envelopeWord(EXAMPLE_METRICS)}`,
  ].join(" \\\n  ");
}

/** curl to HTTP ingest with the X-Provision-Token header. */
export function curlCommand(e: Endpoint, tenantId: string, deviceId: string, token: string): string {
  const url = `${e.publicUrl.replace(/\/+$/, "")}/ingest/v1/tenant/${encodeURIComponent(tenantId)}/device/${encodeURIComponent(deviceId)}/telemetry`;
  return [
    `curl -sS -X POST ${shellQuote(url)}`,
    `-H ${shellQuote(`X-Provision-Token: ${token}`)}`,
    `-H 'Content-Type: application/json'`,
    `-d ${envelopeWord(EXAMPLE_METRICS)}`,
  ].join(" \\\n  ");
}

/**
 * A device's provision token, shown once, with copy buttons and the two
 * commands that send a first message with it.
 */
export function Credentials(p: { endpoint: Endpoint; tenantId: string; deviceId: string; token: string }): VNode {
  const mqtt = p.endpoint.mqttPort > 0;
  return html`<div class="credentials" data-credentials=${p.deviceId}>
    ${SecretOnce({
      id: "provision-token",
      label: `Provision token of ${p.deviceId}`,
      value: p.token,
      warning: "Copy it now: this is the only time Pulse shows it (only a hash is stored). If it is lost, rotate the token on the device's Tokens tab.",
    })}
    ${mqtt
      ? SecretOnce({ id: "mqtt-example", label: "Send a first message over MQTT (mosquitto_pub)", value: mosquittoCommand(p.endpoint, p.tenantId, p.deviceId, p.token), multiline: true })
      : html`<p class="muted">The MQTT broker is off on this server; devices send over HTTP.</p>`}
    ${SecretOnce({ id: "curl-example", label: "…or over HTTP (curl)", value: curlCommand(p.endpoint, p.tenantId, p.deviceId, p.token), multiline: true })}
    <p class="muted small">
      Username <code>${p.tenantId}/${p.deviceId}</code>, password the token; topic <code>tenant/${p.tenantId}/device/${p.deviceId}/telemetry</code> (or
      <code>…/heartbeat</code>). Over HTTP the token goes in <code>X-Provision-Token</code>. The envelope's <code>ts</code> is unix seconds; the shell fills it in.
    </p>
  </div>`;
}
