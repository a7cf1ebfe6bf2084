// Generic HTTP: any method-with-a-body to any URL, with headers (secret ones
// kept apart) and a body template, or the built-in `alertmanager` template
// that posts exactly what Prometheus Alertmanager's webhook (version 4) posts,
// so receivers written for Alertmanager work unchanged.
//
// Body templates: `{{path}}` inserts a value of the event, escaped for the
// content type (inside a JSON string for JSON types, URL-encoded for forms,
// XML-escaped for XML, as is otherwise); `{{path | json}}` inserts it as a JSON
// literal (numbers, null, objects). Paths: see PLACEHOLDERS below and
// docs/NOTIFICATIONS.md. A JSON body must still be JSON once filled in.

import { createHash } from "node:crypto";
import { invalid } from "../../lib/errors.ts";
import { httpOutcome, type ChannelType, type NotificationEvent } from "../channel.ts";
import { checkHeaders, checkUrl, oneOf, optionalText, SAMPLE_EVENT, stateOf, valueText } from "./common.ts";

export interface HttpConfig {
  method: "POST" | "PUT" | "PATCH";
  headers: Record<string, string>;
  template: "custom" | "alertmanager";
  /** The body template (custom); null: the default body. */
  body: string | null;
  contentType: string;
  /** Alertmanager's `receiver` field. */
  receiver: string;
}

export interface HttpSecrets {
  url: string;
  /** Header values that are secret (Authorization, API keys). */
  headers: Record<string, string>;
}

/** Every path a template may use, and how it is read from the event. */
export const PLACEHOLDERS: Record<string, (e: NotificationEvent) => unknown> = {
  id: (e) => e.id,
  type: (e) => e.type,
  timestamp: (e) => e.timestamp,
  status: (e) => stateOf(e).toLowerCase(),
  event: (e) => e,
  "tenant.id": (e) => e.tenant.id,
  "tenant.name": (e) => e.tenant.name,
  "alert.id": (e) => e.alert.id,
  "alert.fingerprint": (e) => e.alert.fingerprint,
  "alert.type": (e) => e.alert.type,
  "alert.severity": (e) => e.alert.severity,
  "alert.severity_level": (e) => e.alert.severity_level,
  "alert.status": (e) => e.alert.status,
  "alert.summary": (e) => e.alert.summary,
  "alert.device_id": (e) => e.alert.device_id,
  "alert.site_id": (e) => e.alert.site_id,
  "alert.metric_name": (e) => e.alert.metric_name,
  "alert.value": (e) => e.alert.value,
  "alert.trigger_count": (e) => e.alert.trigger_count,
  "alert.opened_at": (e) => e.alert.opened_at,
  "alert.acknowledged_by": (e) => e.alert.acknowledged_by,
  "alert.closed_at": (e) => e.alert.closed_at,
  "alert.url": (e) => e.alert.url,
  "rule.id": (e) => e.rule?.id ?? null,
  "rule.name": (e) => e.rule?.name ?? null,
};

const TAG = /\{\{\s*([A-Za-z_.]+)\s*(?:\|\s*(json)\s*)?\}\}/g;
const DEFAULT_BODY = '{"type": {{type | json}}, "timestamp": {{timestamp | json}}, "data": {{event | json}}}';

type Escape = (s: string) => string;

function escaperFor(contentType: string): Escape {
  const t = contentType.toLowerCase();
  if (/[/+]json\b/.test(t)) return (s) => JSON.stringify(s).slice(1, -1);
  if (t.startsWith("application/x-www-form-urlencoded")) return encodeURIComponent;
  if (/[/+]xml\b|text\/html/.test(t)) return (s) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return (s) => s;
}

/** Fill a body template in with an event. */
export function renderTemplate(template: string, event: NotificationEvent, contentType: string): string {
  const escape = escaperFor(contentType);
  return template.replace(TAG, (_, path: string, json?: string) => {
    const v = PLACEHOLDERS[path]!(event);
    if (json) return JSON.stringify(v ?? null);
    return escape(v === null || v === undefined ? "" : typeof v === "string" ? v : valueText(v));
  });
}

function checkTemplate(body: string, contentType: string): void {
  const unknown = [...body.matchAll(TAG)].map((m) => m[1]!).filter((p) => !(p in PLACEHOLDERS));
  if (unknown.length) throw invalid("body", `body: unknown placeholder {{${unknown[0]}}}; known: ${Object.keys(PLACEHOLDERS).join(", ")}`);
  const leftover = body.replace(TAG, "").match(/\{\{[^}]*\}\}/);
  if (leftover) throw invalid("body", `body: ${leftover[0]} is not a placeholder; write {{alert.summary}} or {{alert.value | json}}`);
  if (/json\b/i.test(contentType)) {
    try {
      JSON.parse(renderTemplate(body, SAMPLE_EVENT, contentType));
    } catch (err) {
      throw invalid("body", `body: not valid JSON once filled in with a sample alert (${(err as Error).message}); put text placeholders inside quotes: "{{alert.summary}}"`);
    }
  }
}

/** Alertmanager's 16-hex-digit fingerprint, derived from Pulse's. */
function amFingerprint(e: NotificationEvent): string {
  return createHash("sha256").update(e.alert.fingerprint).digest("hex").slice(0, 16);
}

/** The Alertmanager webhook payload, version 4, for one alert. */
export function alertmanagerBody(e: NotificationEvent, receiver: string): Record<string, unknown> {
  const a = e.alert;
  const status = e.type === "alert.resolved" ? "resolved" : "firing";
  const alertname = e.rule?.name ?? (a.type === "NO_HEARTBEAT" ? "NoHeartbeat" : a.type === "TEST" ? "PulseTest" : a.type);
  const labels = { alertname, severity: a.severity.toLowerCase(), device_id: a.device_id, site_id: a.site_id ?? "", tenant_id: e.tenant.id };
  const description = [
    `${a.type} alert on device ${a.device_id}${a.site_id ? ` at site ${a.site_id}` : ""} (${e.tenant.name}).`,
    a.metric_name ? `${a.metric_name} = ${valueText(a.value)}.` : "",
    `Triggered ${a.trigger_count} time${a.trigger_count === 1 ? "" : "s"} since ${a.opened_at}.`,
    a.acknowledged_by ? `Acknowledged by ${a.acknowledged_by}.` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const annotations = { summary: a.summary, description };
  // One alert per notification, so the group is the alert: a resolve never closes another device's incident.
  const groupLabels = { alertname, device_id: a.device_id, tenant_id: e.tenant.id };
  const groupKey = `{}:{${Object.entries(groupLabels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;
  return {
    version: "4",
    groupKey,
    truncatedAlerts: 0,
    status,
    receiver,
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: a.url.replace(/\/(alerts|notifications)(\/[^/]*)?$/, ""),
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: a.opened_at,
        endsAt: status === "resolved" ? (a.closed_at ?? e.timestamp) : "0001-01-01T00:00:00Z",
        generatorURL: a.url,
        fingerprint: amFingerprint(e),
      },
    ],
  };
}

function bodyOf(e: NotificationEvent, c: HttpConfig): string {
  if (c.template === "alertmanager") return JSON.stringify(alertmanagerBody(e, c.receiver));
  return renderTemplate(c.body ?? DEFAULT_BODY, e, c.contentType);
}

export const http: ChannelType<HttpConfig, HttpSecrets> = {
  type: "http",
  secretFields: ["url", "secret_headers"],
  validate(input) {
    const url = checkUrl(input.url, "url");
    const method = oneOf(input.method, "method", ["POST", "PUT", "PATCH"] as const, "POST");
    const template = oneOf(input.template, "template", ["custom", "alertmanager"] as const, "custom");
    const contentType = template === "alertmanager" ? "application/json" : (optionalText(input.content_type, "content_type", 100) ?? "application/json");
    if (!/^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w-]+=[\w.+-]+)*$/.test(contentType)) throw invalid("content_type", "content_type: a media type like application/json");
    let body: string | null = null;
    if (input.body !== undefined && input.body !== null && input.body !== "") {
      if (typeof input.body !== "string" || input.body.length > 16_384) throw invalid("body", "body: a template of at most 16384 characters");
      body = input.body;
    }
    if (body !== null && template === "alertmanager") throw invalid("body", "body: the alertmanager template has a fixed body; leave body empty or use template custom");
    if (body !== null) checkTemplate(body, contentType);
    const headers = checkHeaders(input.headers, "headers");
    const secretHeaders = checkHeaders(input.secret_headers, "secret_headers");
    const receiver = optionalText(input.receiver, "receiver", 200) ?? "pulse";
    return { config: { method, headers, template, body, contentType, receiver }, secrets: { url, headers: secretHeaders } };
  },
  settingsOf(config, secrets) {
    return { url: secrets.url, method: config.method, headers: config.headers, secret_headers: Object.keys(secrets.headers).length ? secrets.headers : undefined, template: config.template, body: config.body ?? undefined, content_type: config.contentType, receiver: config.receiver };
  },
  preview(event, config) {
    const body = bodyOf(event, config);
    if (/json\b/i.test(config.contentType)) {
      try {
        return { contentType: config.contentType, body: JSON.stringify(JSON.parse(body), null, 2) };
      } catch {
        // Shown as it is: the preview is where a broken template becomes visible.
      }
    }
    return { contentType: config.contentType, body };
  },
  async send(event, config, secrets, ctx) {
    const headers: Record<string, string> = {
      ...config.headers,
      ...secrets.headers,
      "content-type": config.contentType,
      "user-agent": "Pulse-Notifications/1",
      "idempotency-key": event.id,
    };
    return httpOutcome(await ctx.fetch(secrets.url, { method: config.method, headers, body: bodyOf(event, config) }));
  },
};
