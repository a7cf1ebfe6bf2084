// Webhook: a JSON body {type, timestamp, data} signed per the Standard
// Webhooks specification (webhook-id stable across retries, webhook-timestamp,
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>"), with two
// secrets during a rotation, and optionally GitHub's X-Hub-Signature-256.

import { createHmac } from "node:crypto";
import { invalid } from "../../lib/errors.ts";
import { httpOutcome, type ChannelType, type NotificationEvent } from "../channel.ts";
import { checkUrl, checkHeaders } from "./common.ts";

export interface WebhookConfig {
  headers: Record<string, string>;
  githubSignature: boolean;
}

export interface WebhookSecrets {
  url: string;
  /** whsec_… ; during a rotation the new one is first and both sign. */
  secrets: string[];
}

export function webhookBody(event: NotificationEvent): string {
  return JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event });
}

/** Standard Webhooks signatures for every secret, space separated. */
export function signatures(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((s) => {
      const key = Buffer.from(s.replace(/^whsec_/, ""), "base64");
      return "v1," + createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
    })
    .join(" ");
}

/** A fresh signing secret: whsec_ and 24 random bytes in base64 (made when none is given, and by a rotation). */
export function newWebhookSecret(): string {
  return "whsec_" + Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64");
}

function checkSecret(v: unknown, field: string): string {
  if (typeof v !== "string" || !/^whsec_[A-Za-z0-9+/=]{24,}$/.test(v)) throw invalid(field, `${field}: a secret like whsec_ followed by base64 (at least 18 bytes)`);
  return v;
}

export const webhook: ChannelType<WebhookConfig, WebhookSecrets> = {
  type: "webhook",
  secretFields: ["url", "secret", "previous_secret"],
  validate(input) {
    const url = checkUrl(input.url, "url");
    const secret = input.secret === undefined || input.secret === "" ? newWebhookSecret() : checkSecret(input.secret, "secret");
    const previous = input.previous_secret === undefined || input.previous_secret === "" || input.previous_secret === null ? undefined : checkSecret(input.previous_secret, "previous_secret");
    return {
      config: { headers: checkHeaders(input.headers, "headers"), githubSignature: input.github_signature === true },
      secrets: { url, secrets: previous ? [secret, previous] : [secret] },
    };
  },
  settingsOf(config, secrets) {
    return { url: secrets.url, secret: secrets.secrets[0], previous_secret: secrets.secrets[1], headers: config.headers, github_signature: config.githubSignature };
  },
  preview(event) {
    return { contentType: "application/json", body: JSON.stringify(JSON.parse(webhookBody(event)), null, 2) };
  },
  async send(event, config, secrets, ctx) {
    const body = webhookBody(event);
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...config.headers,
      "content-type": "application/json",
      "user-agent": "Pulse-Webhooks/1",
      "webhook-id": event.id,
      "webhook-timestamp": String(ts),
      "webhook-signature": signatures(secrets.secrets, event.id, ts, body),
    };
    if (config.githubSignature) {
      headers["x-hub-signature-256"] = "sha256=" + createHmac("sha256", secrets.secrets[0]!).update(body).digest("hex");
    }
    return httpOutcome(await ctx.fetch(secrets.url, { method: "POST", headers, body }));
  },
};
