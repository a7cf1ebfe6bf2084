// Slack: an incoming webhook (its URL is the secret) posting a Block Kit
// message — a header, a section with the alert's facts as fields, a context
// line, a button back to Pulse — and a plain `text` fallback for
// notifications and old clients. Text is cut to Slack's limits (header 150,
// section 3000, field 2000, button 75 characters; at most 10 fields and 50
// blocks) without splitting a character or an escape. Any Slack-compatible
// receiver (Mattermost, Rocket.Chat) takes the same body.

import { invalid } from "../../lib/errors.ts";
import { httpOutcome, type ChannelType, type NotificationEvent } from "../channel.ts";
import { checkUrl, clip, facts, postJson, stateOf } from "./common.ts";

export interface SlackConfig {
  /** Extra text before the message, e.g. "<!here>" for a mention. */
  mention: string | null;
}

export interface SlackSecrets {
  url: string;
}

export const SLACK_LIMITS = { blocks: 50, header: 150, section: 3000, field: 2000, fields: 10, context: 3000, button: 75, url: 3000, text: 40_000 } as const;

const ICON = { FIRING: "🔴", RESOLVED: "✅", ACKNOWLEDGED: "👀", TEST: "🧪" } as const;

/** Slack's mrkdwn needs &, < and > escaped (everything else is literal). */
const mrkdwn = (c: string) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c);

export function slackMessage(e: NotificationEvent, config: SlackConfig = { mention: null }): { text: string; blocks: Array<Record<string, unknown>> } {
  const state = stateOf(e);
  const a = e.alert;
  const title = `${ICON[state]} ${state} · ${a.severity} · ${a.summary}`;
  const fields = facts(e)
    .filter(([k]) => ["Severity", "Device", "Site", "Metric", "Value", "Rule", "Acknowledged by", "Tenant"].includes(k))
    .slice(0, SLACK_LIMITS.fields)
    .map(([k, v]) => ({ type: "mrkdwn", text: clip(`*${k}*\n`, 100) + clip(v, SLACK_LIMITS.field - 110, mrkdwn) }));
  const prefix = config.mention ? `${config.mention} ` : "";
  const blocks: Array<Record<string, unknown>> = [
    { type: "header", text: { type: "plain_text", text: clip(title, SLACK_LIMITS.header), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: prefix + clip(a.summary, SLACK_LIMITS.section - prefix.length, mrkdwn) }, fields },
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(`${e.tenant.name} · ${a.type} · opened ${a.opened_at}${a.closed_at ? ` · closed ${a.closed_at}` : ""} · alert ${a.id}`, SLACK_LIMITS.context, mrkdwn) }],
    },
  ];
  if (a.url.length <= SLACK_LIMITS.url) {
    blocks.push({ type: "actions", elements: [{ type: "button", text: { type: "plain_text", text: "Open in Pulse", emoji: false }, url: a.url, action_id: "pulse_open_alert", ...(state === "FIRING" ? { style: "danger" } : {}) }] });
  }
  const text = clip(`${prefix}[${state}][${a.severity}] ${a.summary} – ${a.device_id}${a.site_id ? ` @ ${a.site_id}` : ""} ${a.url}`, SLACK_LIMITS.text);
  return { text, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

export const slack: ChannelType<SlackConfig, SlackSecrets> = {
  type: "slack",
  secretFields: ["url"],
  validate(input) {
    const url = checkUrl(input.url, "url");
    const mention = input.mention === undefined || input.mention === null || input.mention === "" ? null : input.mention;
    if (mention !== null && (typeof mention !== "string" || !/^(<[!@#][\w^|-]+>\s*){1,5}$/.test(mention))) {
      throw invalid("mention", "mention: Slack mentions like <!here>, <!channel>, <@U024BE7LH> or <!subteam^SAZ94GDB8>");
    }
    return { config: { mention: (mention as string | null)?.trim() ?? null }, secrets: { url } };
  },
  settingsOf(config, secrets) {
    return { url: secrets.url, mention: config.mention ?? undefined };
  },
  preview(event, config) {
    return { contentType: "application/json", body: JSON.stringify(slackMessage(event, config), null, 2) };
  },
  async send(event, config, secrets, ctx) {
    return httpOutcome(await postJson(ctx, secrets.url, slackMessage(event, config)));
  },
};
