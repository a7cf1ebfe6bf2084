// Checks and wording shared by channel types: URL and header checks, the
// state word of an event (FIRING, RESOLVED…), safe truncation to a
// receiver's limits, and a sample event for validating templates.
import { invalid } from "../../lib/errors.ts";
import { DeliveryError, type NotificationEvent } from "../channel.ts";

export function checkUrl(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > 2000) throw invalid(field, `${field}: an http(s) URL`);
  try {
    const u = new URL(v);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
  } catch {
    throw invalid(field, `${field}: an http(s) URL`);
  }
  return v;
}

export function checkHeaders(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(field, `${field}: an object of header: value`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(k) || typeof val !== "string" || val.length > 2000 || /[\r\n]/.test(val)) throw invalid(`${field}.${k}`, `${field}.${k}: a header name and a one-line value`);
    if (/^(host|content-length|content-type|webhook-)/i.test(k)) throw invalid(`${field}.${k}`, `${field}.${k}: set by Pulse`);
    out[k] = val;
  }
  return out;
}

/** An optional string setting: undefined, null and "" are "not set". */
export function optionalText(v: unknown, field: string, max = 200): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string" || v.length > max || /[\r\n\u0000]/.test(v)) throw invalid(field, `${field}: text of at most ${max} characters on one line`);
  return v;
}

export function requiredText(v: unknown, field: string, max = 200): string {
  const s = optionalText(v, field, max);
  if (s === undefined) throw invalid(field, `${field}: required`);
  return s;
}

export function intSetting(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === null || v === "") return fallback;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw invalid(field, `${field}: a whole number from ${min} to ${max}`);
  return n;
}

export function oneOf<T extends string>(v: unknown, field: string, values: readonly T[], fallback: T): T {
  if (v === undefined || v === null || v === "") return fallback;
  if (!values.includes(v as T)) throw invalid(field, `${field}: one of ${values.join(", ")}`);
  return v as T;
}

export type State = "FIRING" | "RESOLVED" | "ACKNOWLEDGED" | "TEST";

/** What happened, in one word, for subjects, headers and colours. */
export function stateOf(e: NotificationEvent): State {
  if (e.type === "alert.resolved") return "RESOLVED";
  if (e.type === "alert.acknowledged") return "ACKNOWLEDGED";
  if (e.type === "test") return "TEST";
  return "FIRING";
}

/** The alert's value as people read it. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return "–";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Name/value facts every human-readable channel shows. */
export function facts(e: NotificationEvent): Array<[string, string]> {
  const a = e.alert;
  const out: Array<[string, string]> = [
    ["Severity", a.severity],
    ["Device", a.device_id],
    ["Site", a.site_id ?? "–"],
  ];
  if (a.metric_name) out.push(["Metric", a.metric_name]);
  out.push(["Value", valueText(a.value)]);
  out.push(["Status", stateOf(e)]);
  if (e.rule) out.push(["Rule", e.rule.name]);
  if (a.acknowledged_by && e.type === "alert.acknowledged") out.push(["Acknowledged by", a.acknowledged_by]);
  out.push(["Opened", a.opened_at]);
  if (a.closed_at) out.push(["Closed", a.closed_at]);
  out.push(["Tenant", e.tenant.name]);
  return out;
}

/**
 * Cut text to at most `max` characters once escaped, never inside a
 * character (surrogate pairs) or an escape sequence, marking the cut with "…".
 */
export function clip(raw: string, max: number, escape: (ch: string) => string = (c) => c): string {
  const chars = Array.from(raw);
  const whole = chars.map(escape).join("");
  if (whole.length <= max) return whole;
  let out = "";
  for (const ch of chars) {
    const piece = escape(ch);
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return out + "…";
}

/** Cut to at most `max` UTF-8 bytes, on a character boundary. */
export function clipBytes(raw: string, max: number): string {
  if (Buffer.byteLength(raw) <= max) return raw;
  let out = "";
  let bytes = 0;
  for (const ch of raw) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max - 3) break;
    out += ch;
    bytes += n;
  }
  return out + "…";
}

/** A JSON POST through the guarded fetch, mapped to success or DeliveryError. */
export async function postJson(ctx: { fetch: (url: string, init: RequestInit) => Promise<Response> }, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return ctx.fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json", "user-agent": "Pulse-Notifications/1" }, body: JSON.stringify(body) });
}

/** A refusal that no retry can fix (bad settings found only when sending). */
export const refused = (message: string) => new DeliveryError(message, { permanent: true });

/** A sample alert for checking templates when a channel is saved. */
export const SAMPLE_EVENT: NotificationEvent = {
  id: "msg_sample",
  type: "alert.triggered",
  timestamp: "2026-01-01T00:00:00.000Z",
  tenant: { id: "acme", name: "Acme \"Corp\"" },
  alert: {
    id: "00000000-0000-4000-8000-000000000000",
    fingerprint: "THRESHOLD:sample:pump-7",
    type: "THRESHOLD",
    severity: "CRITICAL",
    severity_level: 1,
    status: "OPEN",
    summary: "Too hot: temp_c 90 > 80 on pump-7 \\ \"quoted\" <tag> & more",
    device_id: "pump-7",
    site_id: null,
    metric_name: "temp_c",
    value: 90,
    trigger_count: 1,
    opened_at: "2026-01-01T00:00:00.000Z",
    acknowledged_by: null,
    closed_at: null,
    url: "http://localhost/alerts/00000000-0000-4000-8000-000000000000",
  },
  rule: { id: "00000000-0000-4000-8000-000000000001", name: "Too hot" },
};
