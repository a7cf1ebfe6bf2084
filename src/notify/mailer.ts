// Platform email (invites, password resets; the email channel reuses it)
// over SMTP with nodemailer. Not configured (smtp.host empty) = no mail: the
// UI then shows links to copy instead.

import nodemailer from "nodemailer";
import type { Config } from "../config.ts";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  messageId?: string;
}

export interface Mailer {
  readonly configured: boolean;
  send(msg: MailMessage): Promise<void>;
}

export function createMailer(config: Config): Mailer {
  const host = config["smtp.host"];
  if (!host) {
    return {
      configured: false,
      send: async () => {
        throw new Error("mail: smtp.host is not configured");
      },
    };
  }
  const security = config["smtp.security"];
  const transport = nodemailer.createTransport({
    host,
    port: config["smtp.port"],
    secure: security === "tls",
    requireTLS: security === "starttls",
    ignoreTLS: security === "none",
    auth: config["smtp.username"] ? { user: config["smtp.username"], pass: config["smtp.password"] } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    configured: true,
    send: async (msg) => {
      await transport.sendMail({
        from: config["smtp.from"],
        to: msg.to,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        headers: { "Auto-Submitted": "auto-generated", ...msg.headers },
        messageId: msg.messageId,
      });
    },
  };
}
