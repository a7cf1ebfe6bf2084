// Email over SMTP (nodemailer): the channel's own SMTP server when it names
// one, else the platform mailer ([smtp] in config). Multipart text + HTML,
// everything escaped. Threading: the first notification of an alert has the
// Message-ID <alert-{id}@pulse>; later ones (acknowledged, resolved,
// re-opened) get their own Message-ID with In-Reply-To and References
// pointing at it, so mail clients show one conversation per alert. Retries
// keep the same Message-ID. SMTP 5xx is final; 4xx and connection trouble
// are retried.

import nodemailer, { type Transporter } from "nodemailer";
import { invalid } from "../../lib/errors.ts";
import { DeliveryError, type ChannelType, type NotificationEvent, type SendContext } from "../channel.ts";
import { clip, facts, intSetting, oneOf, optionalText, stateOf } from "./common.ts";

export interface EmailConfig {
  recipients: string[];
  /** The channel's own SMTP server; null: the platform mailer. */
  smtp: { host: string; port: number; security: "starttls" | "tls" | "none"; username: string | null; from: string } | null;
}

export interface EmailSecrets {
  password?: string;
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

const ADDRESS = /^[^\s@<>,;"()\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

function checkRecipients(v: unknown): string[] {
  const list = typeof v === "string" ? v.split(/[,;\s]+/).filter(Boolean) : v;
  if (!Array.isArray(list) || list.length === 0 || list.length > 50) throw invalid("recipients", "recipients: 1 to 50 email addresses");
  for (const r of list) if (typeof r !== "string" || r.length > 254 || !ADDRESS.test(r)) throw invalid("recipients", `recipients: ${JSON.stringify(r).slice(0, 80)} is not an email address`);
  return [...new Set(list as string[])];
}

function checkFrom(v: unknown): string {
  const from = optionalText(v, "from", 200);
  const address = from?.match(/<([^<>]+)>\s*$/)?.[1] ?? from;
  if (!from || !address || !ADDRESS.test(address.trim())) throw invalid("from", "from: the sender, like Pulse <pulse@example.com>");
  return from;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Message-IDs: the first notification of an alert is its thread's root. */
export function threadIds(e: NotificationEvent): { messageId: string; root?: string } {
  if (e.type === "test") return { messageId: `<test-${e.id}@pulse>` };
  const root = `<alert-${e.alert.id}@pulse>`;
  const first = e.type === "alert.triggered" && e.timestamp === e.alert.opened_at;
  return first ? { messageId: root } : { messageId: `<alert-${e.alert.id}.${e.id}@pulse>`, root };
}

export function emailMessage(e: NotificationEvent): EmailMessage {
  const a = e.alert;
  const state = stateOf(e);
  const subject = clip(`[${state}][${a.severity}] ${clip(a.summary, 200)} – ${a.device_id}`, 300).replace(/[\r\n]+/g, " ");
  const rows = facts(e);
  const text = [
    `${state} · ${a.severity}`,
    a.summary,
    "",
    ...rows.map(([k, v]) => `${k}: ${v}`),
    "",
    `Open in Pulse: ${a.url}`,
    "",
    "-- ",
    `Sent by Pulse for ${e.tenant.name}. Notification ${e.id}.`,
  ].join("\n");
  const colour = state === "RESOLVED" ? "#1a7f37" : state === "ACKNOWLEDGED" ? "#0969da" : a.severity === "CRITICAL" || a.severity === "HIGH" ? "#cf222e" : "#9a6700";
  const href = /^https?:\/\//.test(a.url) ? a.url : "#";
  const html = `<!doctype html>
<html><body style="font-family: system-ui, sans-serif; color: #1f2328">
<p style="margin: 0 0 4px; font-weight: 600; color: ${colour}">${escapeHtml(state)} · ${escapeHtml(a.severity)}</p>
<h2 style="margin: 0 0 12px; font-size: 18px">${escapeHtml(a.summary)}</h2>
<table cellpadding="4" style="border-collapse: collapse">
${rows.map(([k, v]) => `<tr><th align="left" style="color: #59636e; font-weight: 500">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("\n")}
</table>
<p><a href="${escapeHtml(href)}">Open in Pulse</a></p>
<p style="color: #59636e; font-size: 12px">Sent by Pulse for ${escapeHtml(e.tenant.name)}. Notification ${escapeHtml(e.id)}.</p>
</body></html>`;
  const ids = threadIds(e);
  const headers: Record<string, string> = {
    "Auto-Submitted": "auto-generated",
    "X-Auto-Response-Suppress": "All",
    "X-Pulse-Alert-Id": a.id,
    "X-Pulse-Event": e.type,
  };
  if (ids.root) {
    headers["In-Reply-To"] = ids.root;
    headers["References"] = ids.root;
  }
  return { subject, text, html, messageId: ids.messageId, headers };
}

/** SMTP answers: 5xx final, 4xx and connection trouble retried. */
function smtpError(err: unknown): DeliveryError {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const code = typeof e.responseCode === "number" ? e.responseCode : undefined;
  const what = `SMTP ${code ?? e.code ?? "error"}: ${(e.response ?? e.message ?? String(err)).slice(0, 300)}`;
  if (code !== undefined && code >= 500) return new DeliveryError(what, { permanent: true, statusCode: code, response: e.response, cause: err });
  if (code !== undefined && code >= 400) return new DeliveryError(what, { permanent: false, statusCode: code, response: e.response, cause: err });
  // No SMTP answer: connection refused, timeout, TLS trouble, DNS — worth another try.
  return new DeliveryError(what, { permanent: e.code === "EENVELOPE" || e.code === "EMESSAGE", cause: err });
}

async function transportFor(config: NonNullable<EmailConfig["smtp"]>, password: string | undefined, ctx: SendContext): Promise<Transporter> {
  const address = await ctx.guardHost(config.host);
  const key = `email:${JSON.stringify([config, address, password ? new Bun.CryptoHasher("sha256").update(password).digest("hex") : ""])}`;
  const cached = ctx.cache.get(key) as Transporter | undefined;
  if (cached) return cached;
  const transport = nodemailer.createTransport({
    host: address,
    port: config.port,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    // Connect to the checked address but verify the certificate for the name.
    tls: { servername: config.host },
    auth: config.username ? { user: config.username, pass: password ?? "" } : undefined,
    connectionTimeout: ctx.timeoutMs,
    greetingTimeout: ctx.timeoutMs,
    socketTimeout: ctx.timeoutMs,
  });
  ctx.cache.set(key, transport);
  return transport;
}

export const email: ChannelType<EmailConfig, EmailSecrets> = {
  type: "email",
  secretFields: ["smtp_password"],
  validate(input) {
    const recipients = checkRecipients(input.recipients);
    const host = optionalText(input.smtp_host, "smtp_host", 253);
    if (host && !/^[A-Za-z0-9.:[\]-]+$/.test(host)) throw invalid("smtp_host", "smtp_host: a host name or address");
    const password = optionalText(input.smtp_password, "smtp_password", 500);
    // Without a host of its own the channel uses the platform's [smtp]; the other smtp_* settings are dropped.
    if (!host) return { config: { recipients, smtp: null }, secrets: {} };
    const security = oneOf(input.smtp_security, "smtp_security", ["starttls", "tls", "none"] as const, "starttls");
    const port = intSetting(input.smtp_port, "smtp_port", 1, 65535, security === "tls" ? 465 : 587);
    const username = optionalText(input.smtp_username, "smtp_username", 200) ?? null;
    return { config: { recipients, smtp: { host, port, security, username, from: checkFrom(input.from) } }, secrets: password ? { password } : {} };
  },
  settingsOf(config, secrets) {
    return {
      recipients: config.recipients,
      smtp_host: config.smtp?.host,
      smtp_port: config.smtp?.port,
      smtp_security: config.smtp?.security,
      smtp_username: config.smtp?.username ?? undefined,
      smtp_password: secrets.password,
      from: config.smtp?.from,
    };
  },
  preview(event) {
    const m = emailMessage(event);
    const head = [`Subject: ${m.subject}`, `Message-ID: ${m.messageId}`, ...Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`)].join("\n");
    return { contentType: "text/plain", body: `${head}\n\n${m.text}` };
  },
  async send(event, config, secrets, ctx) {
    const m = emailMessage(event);
    const to = config.recipients.join(", ");
    try {
      if (config.smtp) {
        const transport = await transportFor(config.smtp, secrets.password, ctx);
        const info = await transport.sendMail({ from: config.smtp.from, to, subject: m.subject, text: m.text, html: m.html, headers: m.headers, messageId: m.messageId });
        return { statusCode: 250, response: String((info as { response?: string }).response ?? "") };
      }
      if (!ctx.mailer.configured) throw new DeliveryError("no SMTP server: give the channel smtp_host, or ask the operator to set [smtp] host", { permanent: true });
      await ctx.mailer.send({ to, subject: m.subject, text: m.text, html: m.html, headers: m.headers, messageId: m.messageId });
      return { statusCode: 250 };
    } catch (err) {
      throw err instanceof DeliveryError ? err : smtpError(err);
    }
  },
};
