// What every channel type implements (one file each under channels/), and
// the event they receive. A channel validates its settings (splitting
// secrets from the rest), previews its message, and sends; it throws
// DeliveryError so the outbox knows whether a retry can help.

import type { Logger } from "../lib/logger.ts";
import type { SafeFetch } from "./safe-fetch.ts";
import type { Mailer } from "./mailer.ts";

export type EventType = "alert.triggered" | "alert.acknowledged" | "alert.resolved" | "alert.escalated" | "test";

/** The notification as every channel sees it (also the webhook body's `data`). */
export interface NotificationEvent {
  /** Stable across retries: the idempotency key (webhook-id, part of Message-ID). */
  id: string;
  type: EventType;
  timestamp: string;
  tenant: { id: string; name: string };
  alert: {
    id: string;
    fingerprint: string;
    type: "THRESHOLD" | "NO_HEARTBEAT" | "TEST";
    severity: "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "INFO";
    severity_level: number;
    status: "OPEN" | "ACKNOWLEDGED" | "CLOSED";
    summary: string;
    device_id: string;
    site_id: string | null;
    metric_name: string | null;
    value: unknown;
    trigger_count: number;
    opened_at: string;
    acknowledged_by: string | null;
    closed_at: string | null;
    url: string;
  };
  /** The rule that raised it (null for NO_HEARTBEAT and tests; absent in rows queued before it was added). */
  rule?: { id: string; name: string } | null;
  /** For escalation notices: the level and who it reaches. */
  escalation?: { level: number; target: string };
}

export class DeliveryError extends Error {
  readonly permanent: boolean;
  readonly retryAfterSeconds?: number;
  readonly statusCode?: number;
  readonly response?: string;
  /** The destination is gone for good (HTTP 410): disable the channel. */
  readonly gone: boolean;
  constructor(message: string, opts: { permanent: boolean; retryAfterSeconds?: number; statusCode?: number; response?: string; gone?: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "DeliveryError";
    this.permanent = opts.permanent;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.statusCode = opts.statusCode;
    this.response = opts.response;
    this.gone = opts.gone ?? false;
  }
}

export interface SendContext {
  fetch: SafeFetch;
  /**
   * Resolve a host a channel connects to without HTTP (SMTP, SNMP, MQTT) and
   * refuse private addresses unless allowed, as fetch does; returns the address to use.
   */
  guardHost: (host: string) => Promise<string>;
  mailer: Mailer;
  log: Logger;
  timeoutMs: number;
  /** Publish to the embedded broker (mqtt channel without an external URL). */
  publishLocal?: (topic: string, payload: string, qos: 0 | 1, retain: boolean) => Promise<void>;
  /** Things a channel keeps between sends (SMTP transports, SNMP sessions). */
  cache: Map<string, unknown>;
  /** The SNMP engine id of this installation (stable), hex. */
  snmpEngineId?: string;
  /** The OID prefix of Pulse's SNMP notifications ([notify] snmp_enterprise_oid). */
  snmpEnterpriseOid?: string;
}

export interface SendResult {
  statusCode?: number;
  response?: string;
}

export interface Preview {
  contentType: string;
  body: string;
}

export interface ChannelType<C = Record<string, unknown>, S = Record<string, unknown>> {
  type: string;
  /** Check settings; throw AppError naming the field. Secrets are returned apart from the rest. */
  validate(input: Record<string, unknown>): { config: C; secrets: S };
  /** Secret fields shown masked in the API (for the UI's forms). */
  secretFields: readonly string[];
  /** The settings (as validate takes them) that stored config and secrets came from, for edits that keep secrets. */
  settingsOf(config: C, secrets: S): Record<string, unknown>;
  /** What would be sent (ctx: the installation facts, e.g. the SNMP engine id). */
  preview(event: NotificationEvent, config: C, ctx?: Pick<SendContext, "snmpEngineId" | "snmpEnterpriseOid">): Preview;
  /** Read-only facts a receiver must be told, shown with the config (e.g. the SNMP engine id). */
  describe?(config: C, ctx: Pick<SendContext, "snmpEngineId" | "snmpEnterpriseOid">): Record<string, unknown>;
  send(event: NotificationEvent, config: C, secrets: S, ctx: SendContext): Promise<SendResult>;
}

/** Map an HTTP answer to success or a DeliveryError (2xx ok; 408/429/5xx retry; 410 gone; other 4xx permanent). */
export async function httpOutcome(res: Response): Promise<SendResult> {
  const text = (await res.text().catch(() => "")).slice(0, 500);
  if (res.ok) return { statusCode: res.status, response: text };
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (res.status === 410) throw new DeliveryError(`HTTP 410 Gone: the receiver is gone`, { permanent: true, gone: true, statusCode: 410, response: text });
  if (res.status === 408 || res.status === 429 || res.status >= 500) throw new DeliveryError(`HTTP ${res.status}`, { permanent: false, retryAfterSeconds: retryAfter, statusCode: res.status, response: text });
  throw new DeliveryError(`HTTP ${res.status}: refused`, { permanent: true, statusCode: res.status, response: text });
}

export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.round((t - Date.now()) / 1000));
}
