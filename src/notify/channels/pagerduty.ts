// PagerDuty Events API v2: trigger, acknowledge and resolve one incident per
// alert (dedup_key = the alert id, so the resolve closes what the trigger
// opened, and retries do not open a second one). 202 is success; 429 and 5xx
// are retried; 400 (a bad routing key or payload) is not. The events URL can
// be changed for the EU service region or a stand-in during tests.

import { invalid } from "../../lib/errors.ts";
import { httpOutcome, type ChannelType, type NotificationEvent } from "../channel.ts";
import { checkUrl, clip, postJson, stateOf, valueText } from "./common.ts";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

export interface PagerDutyConfig {
  eventsUrl: string;
}

export interface PagerDutySecrets {
  routingKey: string;
}

const SEVERITY = { CRITICAL: "critical", HIGH: "error", MEDIUM: "warning", LOW: "info", INFO: "info" } as const;

/** The Events API v2 body for one notification. */
export function pagerdutyEvent(e: NotificationEvent, routingKey: string): Record<string, unknown> {
  const a = e.alert;
  const action = e.type === "alert.resolved" ? "resolve" : e.type === "alert.acknowledged" ? "acknowledge" : "trigger";
  const body: Record<string, unknown> = { routing_key: routingKey, event_action: action, dedup_key: clip(a.id, 255) };
  if (action !== "trigger") return body;
  return {
    ...body,
    payload: {
      summary: clip(`[${a.severity}] ${a.summary}`, 1024),
      source: clip(a.device_id, 255),
      severity: SEVERITY[a.severity],
      timestamp: e.timestamp,
      component: a.metric_name ?? (a.type === "NO_HEARTBEAT" ? "heartbeat" : a.type.toLowerCase()),
      ...(a.site_id ? { group: a.site_id } : {}),
      class: a.type,
      custom_details: {
        state: stateOf(e),
        tenant: e.tenant.name,
        tenant_id: e.tenant.id,
        device_id: a.device_id,
        site_id: a.site_id,
        metric: a.metric_name,
        value: valueText(a.value),
        rule: e.rule?.name ?? null,
        trigger_count: a.trigger_count,
        opened_at: a.opened_at,
        pulse_alert_id: a.id,
        pulse_event_id: e.id,
      },
    },
    client: "Pulse",
    client_url: a.url,
    links: [{ href: a.url, text: "Open the alert in Pulse" }],
  };
}

export const pagerduty: ChannelType<PagerDutyConfig, PagerDutySecrets> = {
  type: "pagerduty",
  secretFields: ["routing_key"],
  validate(input) {
    const key = input.routing_key;
    if (typeof key !== "string" || !/^[A-Za-z0-9]{32}$/.test(key)) throw invalid("routing_key", "routing_key: the 32-character integration key of an Events API v2 integration");
    const eventsUrl = input.events_url === undefined || input.events_url === null || input.events_url === "" ? PAGERDUTY_EVENTS_URL : checkUrl(input.events_url, "events_url");
    return { config: { eventsUrl }, secrets: { routingKey: key } };
  },
  settingsOf(config, secrets) {
    return { routing_key: secrets.routingKey, events_url: config.eventsUrl };
  },
  preview(event) {
    return { contentType: "application/json", body: JSON.stringify(pagerdutyEvent(event, "•".repeat(32)), null, 2) };
  },
  async send(event, config, secrets, ctx) {
    return httpOutcome(await postJson(ctx, config.eventsUrl, pagerdutyEvent(event, secrets.routingKey)));
  },
};
