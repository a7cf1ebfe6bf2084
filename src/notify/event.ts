// The notification event built from an alert change: what every channel
// receives, with a stable id per (alert, change, channel) for de-duplication.

import { SEVERITY_RANK } from "../alerts/evaluate.ts";
import type { AlertRow } from "../alerts/store.ts";
import type { EventType, NotificationEvent } from "./channel.ts";

export function buildEvent(opts: { id: string; type: EventType; at: Date; tenantName: string; alert: AlertRow; ruleName?: string | null; publicUrl: string; escalation?: NotificationEvent["escalation"] }): NotificationEvent {
  const a = opts.alert;
  return {
    id: opts.id,
    type: opts.type,
    timestamp: opts.at.toISOString(),
    tenant: { id: a.tenant_id, name: opts.tenantName },
    alert: {
      id: a.id,
      fingerprint: a.fingerprint,
      type: a.alert_type,
      severity: a.severity,
      severity_level: SEVERITY_RANK[a.severity],
      status: a.status,
      summary: a.summary,
      device_id: a.device_id,
      site_id: a.site_id,
      metric_name: a.metric_name,
      value: a.last_value,
      trigger_count: a.trigger_count,
      opened_at: a.opened_at.toISOString(),
      acknowledged_by: a.acknowledged_by,
      closed_at: a.closed_at?.toISOString() ?? null,
      url: `${opts.publicUrl}/alerts/${a.id}`,
    },
    rule: a.rule_id && opts.ruleName ? { id: a.rule_id, name: opts.ruleName } : null,
    ...(opts.escalation ? { escalation: opts.escalation } : {}),
  };
}

/** A message id in the Standard Webhooks style: stable for one (alert, change, channel). */
export function messageId(parts: string[]): string {
  return "msg_" + new Bun.CryptoHasher("sha256").update(parts.join("|")).digest("base64url").slice(0, 27);
}
