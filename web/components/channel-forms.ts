// The settings form of each notification channel type, derived from the
// type's validate() (src/notify/channels/<type>.ts): which fields it has,
// help text, defaults, and which are secret. Secret fields are write-only:
// never filled in, "leave empty to keep" when editing, and optional ones can
// be removed with a tick. Fields that only matter for one choice of another
// field (SNMP v3's user, the Alertmanager receiver) hide with CSS :has(), so
// the form needs no script; without it they simply all show.

import { DEFAULT_TOPIC } from "../../src/notify/channels/mqtt.ts";
import { PAGERDUTY_EVENTS_URL } from "../../src/notify/channels/pagerduty.ts";
import { PLACEHOLDERS } from "../../src/notify/channels/http.ts";
import { invalid } from "../../src/lib/errors.ts";
import { html, type VNode } from "../render.ts";
import { FieldShell, fieldAria } from "./field.ts";
import { CheckboxField, SelectField, TextAreaField, TextField, type FormState, type Option } from "./form.ts";

export interface ChannelField {
  /** The setting's name, as validate() takes it (and names it in errors). */
  name: string;
  label: string;
  /** A shorter label for the channel's settings list (long checkbox labels). */
  short?: string;
  /** radio: a choice other fields depend on (the form hides what does not apply with CSS). */
  kind: "text" | "number" | "textarea" | "select" | "radio" | "checkbox";
  hint?: VNode | string;
  /** The hint when editing, where it differs (a secret's "how to change it"). */
  editHint?: VNode | string;
  placeholder?: string;
  options?: readonly Option[];
  /** Value of a new channel's form. */
  default?: string;
  /** Write-only: never shown; left empty it keeps the stored value. */
  secret?: boolean;
  /** Must be given when the channel is created. */
  required?: boolean;
  /** "Name: value" lines, read into an object of headers. */
  headers?: boolean;
  mono?: boolean;
  /** Only relevant when another field has this value (hidden otherwise, by CSS). */
  when?: { field: string; value: string };
}

export interface ChannelForm {
  type: string;
  /** The word shown for the type everywhere ("Webhook"). */
  label: string;
  /** One line: what it sends where. */
  summary: string;
  fields: readonly ChannelField[];
  /** A stored channel's config as the form's values (never secrets). */
  values(config: Record<string, any>): Record<string, string>;
}

const headerLines = (h: unknown) =>
  Object.entries((h as Record<string, string> | undefined) ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

const URL_HINT = "Kept secret: receivers often put a token in the URL.";
const HEADERS_HINT = html`One per line, <code>Name: value</code>. Pulse sets <code>Content-Type</code> and the signature headers itself.`;

export const CHANNEL_FORMS: readonly ChannelForm[] = [
  {
    type: "webhook",
    label: "Webhook",
    summary: "Signed JSON to any HTTPS endpoint (Standard Webhooks).",
    fields: [
      { name: "url", label: "Endpoint URL", kind: "text", secret: true, required: true, placeholder: "https://example.com/hooks/pulse", hint: URL_HINT },
      {
        name: "secret",
        label: "Signing secret",
        kind: "text",
        secret: true,
        placeholder: "whsec_…",
        hint: "Leave empty and Pulse makes one, shown once. Or paste yours: whsec_ followed by base64.",
        editHint: "To change it without breaking the receiver, use Rotate secret on the channel's page; a secret pasted here replaces it at once.",
      },
      { name: "headers", label: "Extra headers", kind: "textarea", headers: true, mono: true, placeholder: "X-Team: ops", hint: HEADERS_HINT },
      { name: "github_signature", label: "Also sign like GitHub (X-Hub-Signature-256)", short: "GitHub signature", kind: "checkbox", hint: "For receivers written for GitHub webhooks." },
    ],
    values: (c) => ({ headers: headerLines(c.headers), github_signature: c.githubSignature ? "on" : "" }),
  },
  {
    type: "http",
    label: "HTTP",
    summary: "Any HTTP request with your own body template, or Alertmanager's webhook body.",
    fields: [
      { name: "url", label: "URL", kind: "text", secret: true, required: true, placeholder: "https://example.com/api/events", hint: URL_HINT },
      { name: "method", label: "Method", kind: "select", default: "POST", options: ["POST", "PUT", "PATCH"].map((m) => ({ value: m, label: m })) },
      {
        name: "template",
        label: "Body",
        kind: "radio",
        default: "custom",
        options: [
          { value: "custom", label: "My own template (below)" },
          { value: "alertmanager", label: "Prometheus Alertmanager webhook (version 4)" },
        ],
        hint: "Alertmanager's body works with receivers written for Alertmanager, unchanged.",
      },
      { name: "content_type", label: "Content type", kind: "text", default: "application/json", when: { field: "template", value: "custom" } },
      {
        name: "body",
        label: "Body template",
        kind: "textarea",
        mono: true,
        when: { field: "template", value: "custom" },
        placeholder: '{"text": "{{alert.summary}}", "severity": {{alert.severity | json}}}',
        hint: html`Empty: <code>{type, timestamp, data}</code> like the webhook. <code>{{path}}</code> inserts a value escaped for the content type (write the quotes
          in JSON), <code>{{path | json}}</code> a JSON literal. Paths: ${Object.keys(PLACEHOLDERS).map((p, i) => html`${i ? ", " : ""}<code>${p}</code>`)}.`,
      },
      { name: "receiver", label: "Receiver name", kind: "text", default: "pulse", when: { field: "template", value: "alertmanager" }, hint: "Alertmanager's receiver field." },
      { name: "headers", label: "Headers", kind: "textarea", headers: true, mono: true, placeholder: "X-Source: pulse", hint: HEADERS_HINT },
      { name: "secret_headers", label: "Secret headers", kind: "textarea", headers: true, mono: true, secret: true, placeholder: "Authorization: Bearer …", hint: "Like headers, for tokens and API keys." },
    ],
    values: (c) => ({ method: str(c.method), template: str(c.template), content_type: str(c.contentType), body: str(c.body), receiver: str(c.receiver), headers: headerLines(c.headers) }),
  },
  {
    type: "slack",
    label: "Slack",
    summary: "A Block Kit message through an incoming webhook (Mattermost and Rocket.Chat take it too).",
    fields: [
      { name: "url", label: "Incoming webhook URL", kind: "text", secret: true, required: true, placeholder: "https://hooks.slack.com/services/…", hint: URL_HINT },
      { name: "mention", label: "Mention", kind: "text", placeholder: "<!here>", hint: html`Before the message: <code>${"<!here>"}</code>, <code>${"<!channel>"}</code>, <code>${"<@U024BE7LH>"}</code>.` },
    ],
    values: (c) => ({ mention: str(c.mention) }),
  },
  {
    type: "pagerduty",
    label: "PagerDuty",
    summary: "Events API v2: one incident per alert, acknowledged and resolved with it.",
    fields: [
      { name: "routing_key", label: "Integration key", kind: "text", secret: true, required: true, placeholder: "32 characters", hint: "The routing key of an Events API v2 integration on a PagerDuty service." },
      { name: "events_url", label: "Events URL", kind: "text", default: PAGERDUTY_EVENTS_URL, hint: html`EU service region: <code>https://events.eu.pagerduty.com/v2/enqueue</code>.` },
    ],
    values: (c) => ({ events_url: str(c.eventsUrl) }),
  },
  {
    type: "teams",
    label: "Microsoft Teams",
    summary: "An Adaptive Card through a Workflows webhook.",
    fields: [
      {
        name: "url",
        label: "Workflow URL",
        kind: "text",
        secret: true,
        required: true,
        placeholder: "https://…logic.azure.com/workflows/…",
        hint: "From the Teams workflow “When a Teams webhook request is received”.",
      },
    ],
    values: () => ({}),
  },
  {
    type: "email",
    label: "Email",
    summary: "Text and HTML mail, one thread per alert.",
    fields: [
      { name: "recipients", label: "Recipients", kind: "textarea", required: true, placeholder: "ops@example.com, oncall@example.com", hint: "Up to 50 addresses, separated by commas or lines." },
      { name: "smtp_host", label: "Own SMTP server", kind: "text", placeholder: "smtp.example.com", hint: "Empty: the platform's mail server. The fields below only count with a server here." },
      { name: "smtp_port", label: "SMTP port", kind: "number", placeholder: "587", hint: "Empty: 587, or 465 with TLS." },
      {
        name: "smtp_security",
        label: "Security",
        kind: "select",
        default: "starttls",
        options: [
          { value: "starttls", label: "STARTTLS (required)" },
          { value: "tls", label: "TLS from the start" },
          { value: "none", label: "None (trusted networks only)" },
        ],
      },
      { name: "smtp_username", label: "SMTP username", kind: "text" },
      { name: "smtp_password", label: "SMTP password", kind: "text", secret: true },
      { name: "from", label: "From", kind: "text", placeholder: "Pulse <pulse@example.com>", hint: "Required with an own server." },
    ],
    values: (c) => ({
      recipients: ((c.recipients as string[] | undefined) ?? []).join(", "),
      smtp_host: str(c.smtp?.host),
      smtp_port: str(c.smtp?.port),
      smtp_security: str(c.smtp?.security || "starttls"),
      smtp_username: str(c.smtp?.username),
      from: str(c.smtp?.from),
    }),
  },
  {
    type: "snmp",
    label: "SNMP trap",
    summary: "v2c or v3 traps for a network management system, with a MIB.",
    fields: [
      {
        name: "version",
        label: "SNMP version",
        kind: "radio",
        default: "2c",
        options: [
          { value: "2c", label: "v2c (community)" },
          { value: "3", label: "v3 (authPriv)" },
        ],
      },
      { name: "host", label: "Trap receiver", kind: "text", required: true, placeholder: "nms.example.com", hint: "Host name or address." },
      { name: "port", label: "Port", kind: "number", default: "162" },
      { name: "community", label: "Community", kind: "text", secret: true, required: true, when: { field: "version", value: "2c" } },
      { name: "user", label: "User", kind: "text", required: true, when: { field: "version", value: "3" } },
      {
        name: "auth_protocol",
        label: "Authentication",
        kind: "select",
        default: "sha",
        when: { field: "version", value: "3" },
        options: [
          { value: "sha", label: "SHA" },
          { value: "sha256", label: "SHA-256" },
        ],
      },
      { name: "auth_key", label: "Authentication key", kind: "text", secret: true, required: true, when: { field: "version", value: "3" }, hint: "8 to 128 characters." },
      { name: "priv_protocol", label: "Privacy", kind: "select", default: "aes", when: { field: "version", value: "3" }, options: [{ value: "aes", label: "AES-128" }] },
      { name: "priv_key", label: "Privacy key", kind: "text", secret: true, required: true, when: { field: "version", value: "3" }, hint: "8 to 128 characters." },
    ],
    values: (c) => ({ version: str(c.version), host: str(c.host), port: str(c.port), user: str(c.user), auth_protocol: str(c.authProtocol ?? "sha"), priv_protocol: "aes" }),
  },
  {
    type: "mqtt",
    label: "MQTT",
    summary: "The notification's JSON published to a topic, on the embedded broker or another one.",
    fields: [
      { name: "broker_url", label: "Broker URL", kind: "text", secret: true, placeholder: "mqtts://broker.example.com:8883", hint: "Empty: Pulse's embedded broker. mqtt://, mqtts://, ws:// or wss://." },
      { name: "username", label: "Username", kind: "text", hint: "For another broker only." },
      { name: "password", label: "Password", kind: "text", secret: true },
      {
        name: "topic",
        label: "Topic",
        kind: "text",
        default: DEFAULT_TOPIC,
        mono: true,
        hint: html`Placeholders <code>{tenant_id}</code> <code>{severity}</code> <code>{device_id}</code> <code>{site_id}</code> <code>{alert_id}</code> <code>{alert_type}</code>
          <code>{metric}</code>. On the embedded broker it must start with <code>alerts/{tenant_id}/</code>.`,
      },
      {
        name: "qos",
        label: "QoS",
        kind: "select",
        default: "1",
        options: [
          { value: "1", label: "1 (at least once)" },
          { value: "0", label: "0 (at most once)" },
        ],
      },
      { name: "retain", label: "Retain (the resolve replaces the firing message)", short: "Retain", kind: "checkbox" },
    ],
    values: (c) => ({ username: str(c.username), topic: str(c.topic), qos: str(c.qos), retain: c.retain ? "on" : "" }),
  },
];

export function channelForm(type: string): ChannelForm | undefined {
  return CHANNEL_FORMS.find((f) => f.type === type);
}

/** The word for a type ("Webhook"), or the type itself for one this build has no form for. */
export function typeLabel(type: string): string {
  return channelForm(type)?.label ?? type;
}

/** A new channel's starting values. */
export function defaultValues(form: ChannelForm): Record<string, string> {
  return Object.fromEntries(form.fields.filter((f) => f.default !== undefined).map((f) => [f.name, f.default!]));
}

/** "Name: value" lines as a headers object; a line without a colon is named. */
export function parseHeaderLines(text: string, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (!line) continue;
    const i = line.indexOf(":");
    if (i <= 0) throw invalid(field, `${field}: one header per line as Name: value (“${line.slice(0, 40)}” has no colon)`);
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * The settings a posted form gives. A secret left empty is left out (the
 * service keeps the stored one; on create the type's default applies, e.g. a
 * generated webhook secret); "clear_<name>" ticked removes it.
 */
export function settingsFromForm(form: ChannelForm, values: Record<string, string | undefined>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const f of form.fields) {
    const raw = values[f.name] ?? "";
    if (f.kind === "checkbox") {
      settings[f.name] = raw === "on";
      continue;
    }
    if (f.secret) {
      if (values[`clear_${f.name}`] === "on") settings[f.name] = null;
      else if (raw.trim() !== "") settings[f.name] = f.headers ? parseHeaderLines(raw, f.name) : raw.trim();
      continue;
    }
    settings[f.name] = f.headers ? parseHeaderLines(raw, f.name) : raw.trim();
  }
  return settings;
}

/** Form values without anything secret: what may be sent back in a page. */
export function withoutSecrets(form: ChannelForm, values: Record<string, string | undefined>): Record<string, string | undefined> {
  const out = { ...values };
  for (const f of form.fields) if (f.secret) delete out[f.name];
  return out;
}

/**
 * The type's fields. `secretsSet` (editing) names the secret fields that
 * have a value: those say "set — leave empty to keep", and optional ones
 * offer to remove it.
 */
export function ChannelFields(p: { form: ChannelForm; state: FormState; secretsSet?: readonly string[]; idPrefix?: string }): VNode {
  const id = p.idPrefix ?? "ch";
  const editing = p.secretsSet !== undefined;
  return html`<div class="channel-fields" data-channel-type=${p.form.type}>
    ${p.form.fields.map((f) => {
      const when = f.when ? `${f.when.field}=${f.when.value}` : undefined;
      return html`<div class="channel-field" data-when=${when}>${FieldOf(f, p.state, id, editing, p.secretsSet ?? [])}</div>`;
    })}
  </div>`;
}

function FieldOf(f: ChannelField, form: FormState, id: string, editing: boolean, set: readonly string[]): VNode {
  const base = { name: f.name, label: f.label, form, idPrefix: id };
  if (f.kind === "checkbox") return CheckboxField({ ...base, hint: f.hint });
  if (f.kind === "select") return SelectField({ ...base, options: f.options ?? [], value: f.default, hint: f.hint });
  if (f.kind === "radio") return Choice(f, form, id);
  if (f.secret) {
    const isSet = set.includes(f.name);
    const hint = editing
      ? html`<span data-secret-state=${isSet ? "set" : "unset"}>${isSet ? html`<strong>Set.</strong> Leave empty to keep it; it is never shown again.` : "Not set."}</span>${f.editHint ?? f.hint ? html` ${f.editHint ?? f.hint}` : null}`
      : html`${f.hint ?? ""} <span class="muted">Write-only: never shown after saving.</span>`;
    const control = f.kind === "textarea"
      ? TextAreaField({ ...base, value: "", rows: 2, mono: f.mono, placeholder: isSet ? "•••••••• (unchanged)" : f.placeholder, hint, required: f.required || (editing && isSet) ? undefined : false })
      : TextField({ ...base, type: "password", autocomplete: "new-password", placeholder: isSet ? "•••••••• (unchanged)" : f.placeholder, hint, required: f.required || (editing && isSet) ? undefined : false });
    const clearable = editing && isSet && !f.required && f.name !== "secret";
    return clearable ? html`${control}${CheckboxField({ name: `clear_${f.name}`, label: `Remove the stored ${f.label.toLowerCase()}`, form, idPrefix: id })}` : control;
  }
  const optional = f.required ? undefined : false;
  if (f.kind === "textarea") return TextAreaField({ ...base, rows: f.name === "body" ? 6 : 3, mono: f.mono, placeholder: f.placeholder, hint: f.hint, required: optional });
  return TextField({ ...base, type: f.kind === "number" ? "text" : "text", placeholder: f.placeholder, hint: f.hint, required: optional, autocomplete: "off" });
}

/** One of a few choices as radio buttons (what other fields depend on). */
function Choice(f: ChannelField, form: FormState, id: string): VNode {
  const fid = `${id}-${f.name}`;
  const current = form.values[f.name] || f.default || f.options?.[0]?.value;
  return FieldShell({
    id: fid,
    label: f.label,
    name: f.name,
    form,
    hint: f.hint,
    children: html`<div class="choice-row" id=${fid} role="radiogroup" aria-label=${f.label} ...${fieldAria({ id: fid, name: f.name, form, hint: f.hint })}>
      ${(f.options ?? []).map((o) => html`<label class="choice"><input type="radio" name=${f.name} value=${o.value} checked=${o.value === current} /> ${o.label}</label>`)}
    </div>`,
  });
}

// A small glyph per type beside its word (decorative; the word carries the meaning).
const GLYPHS: Record<string, string> = {
  webhook: "M5 11.5a2.5 2.5 0 1 1 2.2-3.7M11 11.5a2.5 2.5 0 1 0-1-4.8L8 3.5M8 3.5a2.5 2.5 0 1 0-2.3 1.5",
  http: "M2 8h12M8 2a9 9 0 0 1 0 12M8 2a9 9 0 0 0 0 12M8 2a6 6 0 1 1 0 12A6 6 0 0 1 8 2",
  slack: "M6 2v12M10 2v12M2 6h12M2 10h12",
  pagerduty: "M4 14V3h4.5a3 3 0 0 1 0 6H4",
  teams: "M2.5 3.5h11v7h-6l-3 3v-3h-2z",
  email: "M2 4h12v8H2zM2 4l6 5 6-5",
  snmp: "M8 2v4M8 6L3 11M8 6l5 5M8 6v5M3 11v2M8 11v2M13 11v2",
  mqtt: "M3 13a10 10 0 0 1 10-10M3 9a6 6 0 0 1 6-6M3 5a2 2 0 0 1 2-2",
};

/** The type's glyph and word: "Webhook". */
export function TypeMark(p: { type: string }): VNode {
  const d = GLYPHS[p.type];
  return html`<span class="type-mark" data-channel-type=${p.type}>
    ${d
      ? html`<svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d=${d} fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" /></svg>`
      : null}${typeLabel(p.type)}
  </span>`;
}
