// Every channel type Pulse can send through, registered in one list. A new
// type is one file in this folder plus a line here (see docs/NOTIFICATIONS.md).
import type { ChannelType } from "../channel.ts";
import { email } from "./email.ts";
import { http } from "./http.ts";
import { mqttChannel } from "./mqtt.ts";
import { pagerduty } from "./pagerduty.ts";
import { slack } from "./slack.ts";
import { snmpChannel } from "./snmp.ts";
import { teams } from "./teams.ts";
import { webhook } from "./webhook.ts";

export const CHANNEL_TYPES: Record<string, ChannelType<any, any>> = Object.fromEntries(
  [webhook, http, slack, pagerduty, teams, email, snmpChannel, mqttChannel].map((t) => [t.type, t]),
);
