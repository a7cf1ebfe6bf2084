// Notifications to one person instead of a channel (escalation pages people
// through their contact methods). Such an outbox row has no channel; it
// carries a recipient — the kind, the address, whose it is — and the
// recipient's URL secrets, still sealed. The outbox sends it through the
// channel type of the same kind, with settings made from the recipient: an
// email goes out through the platform mailer, a Slack/Teams/webhook URL
// through the same code as a channel of that type. No channel rows are made
// for people, so channel lists, routes and circuit breakers stay about
// channels, and the delivery log still says where each page went.

import { AppError } from "../lib/errors.ts";
import type { SecretBox } from "../lib/secrets.ts";
import { DeliveryError, type ChannelType } from "./channel.ts";
import { CHANNEL_TYPES } from "./channels/index.ts";

export const PERSONAL_KINDS = ["email", "slack", "teams", "webhook"] as const;
export type PersonalKind = (typeof PERSONAL_KINDS)[number];

/** Where a personal notification goes (notification_outbox.recipient). */
export interface Recipient {
  kind: PersonalKind;
  /** The email address, or the URL without path and query (display only; the URL is in the secrets). */
  address: string;
  /** The person (null for a policy's own webhook target). */
  user_id: string | null;
  username: string | null;
  /** The contact method it came from; null for an account's email or a policy webhook. */
  contact_method_id: string | null;
  /** For the delivery log: "dana · email dana@example.com". */
  label: string;
}

/** The secret part of a URL recipient. */
export interface RecipientSecrets {
  url?: string;
  /** Standard Webhooks signing secret (webhook kind). */
  secret?: string;
}

/** Settings in the shape the channel type of this kind validates. */
export function personalSettings(kind: PersonalKind, address: string, secrets: RecipientSecrets): Record<string, unknown> {
  if (kind === "email") return { recipients: [address] };
  if (kind === "webhook") return { url: secrets.url, secret: secrets.secret };
  return { url: secrets.url };
}

/** Check a recipient's settings with its channel type (refusals name the field, as channels' do). */
export function checkPersonal(kind: PersonalKind, address: string, secrets: RecipientSecrets): void {
  CHANNEL_TYPES[kind]!.validate(personalSettings(kind, address, secrets));
}

/** What the outbox sends a personal row with: the channel type and its config and secrets. */
export async function personalDestination(
  recipient: Recipient,
  sealed: string | null,
  box: SecretBox,
): Promise<{ type: ChannelType<any, any>; config: Record<string, unknown>; secrets: Record<string, unknown> }> {
  const type = CHANNEL_TYPES[recipient.kind];
  if (!type) throw new DeliveryError(`no way to deliver to a ${recipient.kind} contact`, { permanent: true });
  const secrets = sealed ? (JSON.parse(await box.decrypt(sealed)) as RecipientSecrets) : {};
  try {
    const { config, secrets: s } = type.validate(personalSettings(recipient.kind, recipient.address, secrets));
    return { type, config: config as Record<string, unknown>, secrets: s as Record<string, unknown> };
  } catch (err) {
    if (err instanceof AppError) throw new DeliveryError(`the contact is no longer valid: ${err.message}`, { permanent: true, cause: err });
    throw err;
  }
}

/** A URL as people may see it: scheme and host, never the path or query (they hold tokens). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "(invalid URL)";
  }
}
