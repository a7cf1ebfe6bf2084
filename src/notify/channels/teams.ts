// Microsoft Teams through a Workflows (Power Automate) "post to a channel when
// a webhook request is received" URL, the secret. The body is a message with
// one Adaptive Card (version 1.4): a title coloured by state, the facts, and a
// button back to Pulse. Never the retired Office 365 connector MessageCard.

import { httpOutcome, type ChannelType, type NotificationEvent } from "../channel.ts";
import { checkUrl, clip, facts, postJson, stateOf } from "./common.ts";

export type TeamsConfig = Record<string, never>;

export interface TeamsSecrets {
  url: string;
}

/** Title colour: Attention (CRITICAL, HIGH), Warning (MEDIUM, LOW), Good (resolved), Accent (INFO, acknowledged). */
export function teamsColor(e: NotificationEvent): "Attention" | "Warning" | "Good" | "Accent" {
  const state = stateOf(e);
  if (state === "RESOLVED") return "Good";
  if (state === "ACKNOWLEDGED") return "Accent";
  const s = e.alert.severity;
  return s === "CRITICAL" || s === "HIGH" ? "Attention" : s === "MEDIUM" || s === "LOW" ? "Warning" : "Accent";
}

export function teamsMessage(e: NotificationEvent): Record<string, unknown> {
  const a = e.alert;
  const state = stateOf(e);
  const card = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    msteams: { width: "Full" },
    body: [
      { type: "TextBlock", text: clip(`${state} · ${a.severity} · ${a.device_id}`, 200), weight: "Bolder", size: "Medium", color: teamsColor(e), wrap: true },
      { type: "TextBlock", text: clip(a.summary, 2000), wrap: true },
      { type: "FactSet", facts: facts(e).map(([title, value]) => ({ title, value: clip(value, 500) })) },
    ],
    actions: [{ type: "Action.OpenUrl", title: "Open in Pulse", url: a.url }],
  };
  return { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }] };
}

export const teams: ChannelType<TeamsConfig, TeamsSecrets> = {
  type: "teams",
  secretFields: ["url"],
  validate(input) {
    return { config: {}, secrets: { url: checkUrl(input.url, "url") } };
  },
  settingsOf(_config, secrets) {
    return { url: secrets.url };
  },
  preview(event) {
    return { contentType: "application/json", body: JSON.stringify(teamsMessage(event), null, 2) };
  },
  async send(event, _config, secrets, ctx) {
    return httpOutcome(await postJson(ctx, secrets.url, teamsMessage(event)));
  },
};
