// The HTTP-based channel types against a local receiver standing in for the
// real service, checked against what the services document: generic HTTP
// templates and the Alertmanager webhook (version 4), Slack Block Kit and its
// limits, Teams Adaptive Cards (1.4) through Workflows, PagerDuty Events API
// v2 (trigger → acknowledge → resolve on one dedup_key). Settings are
// validated with errors that name the field.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { NotificationEvent } from "../../src/notify/channel.ts";
import { pagerdutyEvent } from "../../src/notify/channels/pagerduty.ts";
import { slackMessage } from "../../src/notify/channels/slack.ts";
import { teamsColor, teamsMessage } from "../../src/notify/channels/teams.ts";
import { startHttpReceiver, type HttpReceiver } from "../helpers/receivers.ts";
import { bodies, startWorld, type World } from "./fixtures.ts";

let w: World;
let rx: HttpReceiver;

beforeAll(async () => {
  rx = startHttpReceiver();
  w = await startWorld();
}, 60_000);
afterEach(() => w.reset(), 60_000);
afterAll(async () => {
  await w.stop();
  rx.stop();
}, 60_000);

/** Fire (and optionally acknowledge and clear) one alert on pump-7 for a metric; returns the alert id. */
async function lifecycle(metric: string, steps: Array<"ack" | "clear"> = [], ruleName?: string): Promise<string> {
  await w.rule(metric, { name: ruleName });
  await w.send("pump-7", { [metric]: 99 });
  const alert = (await w.alertOf("pump-7", metric))!;
  for (const s of steps) {
    if (s === "ack") expect((await w.api(`/alerts/${alert.id}/acknowledge`, { body: {} })).status).toBe(200);
    else await w.send("pump-7", { [metric]: 5 });
  }
  await w.drain();
  return alert.id;
}

const keys = (o: object) => Object.keys(o).sort();

describe("http", () => {
  test("the alertmanager template posts the Alertmanager webhook v4 shape exactly, firing then resolved", async () => {
    const ch = await w.channel("http", { url: rx.url("/am"), template: "alertmanager", receiver: "pulse-ops" });
    await w.route(ch);
    const alertId = await lifecycle("m_am", ["clear"], "Pump too hot");
    const [firing, resolved] = bodies(await rx.waitFor("/am", 2));
    expect(rx.at("/am")[0]!.headers["content-type"]).toBe("application/json");
    for (const [body, status] of [
      [firing!, "firing"],
      [resolved!, "resolved"],
    ] as const) {
      expect(keys(body)).toEqual(["alerts", "commonAnnotations", "commonLabels", "externalURL", "groupKey", "groupLabels", "receiver", "status", "truncatedAlerts", "version"]);
      expect(body).toMatchObject({ version: "4", truncatedAlerts: 0, status, receiver: "pulse-ops" });
      expect(body.externalURL).toBe(w.pulse.app.url());
      expect(body.alerts).toHaveLength(1);
      const a = body.alerts[0];
      expect(keys(a)).toEqual(["annotations", "endsAt", "fingerprint", "generatorURL", "labels", "startsAt", "status"]);
      expect(a.status).toBe(status);
      expect(a.labels).toEqual({ alertname: "Pump too hot", severity: "critical", device_id: "pump-7", site_id: "plant", tenant_id: "acme" });
      expect(keys(a.annotations)).toEqual(["description", "summary"]);
      expect(a.annotations.summary).toContain("Pump too hot");
      expect(a.generatorURL).toBe(`${w.pulse.app.url()}/alerts/${alertId}`);
      expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(Number.isNaN(Date.parse(a.startsAt))).toBe(false);
      expect(body.commonLabels).toEqual(a.labels);
      expect(body.commonAnnotations).toEqual(a.annotations);
      for (const [k, v] of Object.entries(body.groupLabels)) expect(a.labels[k]).toBe(v);
      expect(body.groupKey).toMatch(/^\{\}:\{.*alertname="Pump too hot".*\}$/);
    }
    expect(firing!.alerts[0].endsAt).toBe("0001-01-01T00:00:00Z");
    expect(Date.parse(resolved!.alerts[0].endsAt)).toBeGreaterThanOrEqual(Date.parse(resolved!.alerts[0].startsAt));
    expect(resolved!.alerts[0].fingerprint).toBe(firing!.alerts[0].fingerprint);
    expect(resolved!.groupKey).toBe(firing!.groupKey);
  });

  test("custom body templates fill placeholders escaped for the content type; secret headers are sent", async () => {
    const json = await w.channel("http", {
      url: rx.url("/json"),
      method: "PUT",
      headers: { "X-Team": "ops" },
      secret_headers: { Authorization: "Bearer t0ken" },
      body: '{"text": "{{alert.summary}}", "sev": "{{alert.severity}}", "value": {{alert.value | json}}, "site": {{alert.site_id | json}}, "rule": "{{rule.name}}", "state": "{{status}}", "id": "{{id}}"}',
    });
    const form = await w.channel("http", { url: rx.url("/form"), content_type: "application/x-www-form-urlencoded", body: "summary={{alert.summary}}&device={{alert.device_id}}&rule={{rule.name}}" });
    await w.route(json);
    await w.route(form);
    const tricky = 'Tank "B" \\ <hot> & more';
    await lifecycle("m_tpl", [], tricky);
    const [j] = await rx.waitFor("/json", 1);
    expect(j!.method).toBe("PUT");
    expect(j!.headers.authorization).toBe("Bearer t0ken");
    expect(j!.headers["x-team"]).toBe("ops");
    expect(j!.headers["idempotency-key"]).toMatch(/^msg_/);
    const body = JSON.parse(j!.body);
    expect(body).toMatchObject({ sev: "CRITICAL", value: 99, site: "plant", rule: tricky, state: "firing", id: j!.headers["idempotency-key"] });
    expect(body.text).toStartWith(tricky);
    const [f] = await rx.waitFor("/form", 1);
    expect(f!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const params = new URLSearchParams(f!.body);
    expect(params.get("device")).toBe("pump-7");
    expect(params.get("rule")).toBe(tricky);
    expect([...params.keys()]).toEqual(["summary", "device", "rule"]);
  });
});

// --- Slack ------------------------------------------------------------------------

/** Violations of Block Kit's documented rules and limits (empty: valid). */
function blockKitViolations(msg: { text?: unknown; blocks?: unknown }): string[] {
  const bad: string[] = [];
  const textObject = (o: any, where: string, max: number, plainOnly = false) => {
    if (!o || typeof o.text !== "string" || o.text.length < 1) return bad.push(`${where}: text object without text`);
    if (o.type !== "plain_text" && (plainOnly || o.type !== "mrkdwn")) bad.push(`${where}: type ${o.type}`);
    if (o.text.length > max) bad.push(`${where}: ${o.text.length} > ${max} characters`);
    if (o.emoji !== undefined && o.type !== "plain_text") bad.push(`${where}: emoji only on plain_text`);
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(o.text)) bad.push(`${where}: a character cut in half`);
    if (o.type === "mrkdwn" && /&(?!amp;|lt;|gt;)|[<>](?![!@#])/.test(o.text.replace(/<[!@#][^>]*>/g, ""))) bad.push(`${where}: unescaped & < >`);
  };
  if (typeof msg.text !== "string" || !msg.text) bad.push("text: the fallback is missing");
  if (!Array.isArray(msg.blocks) || msg.blocks.length < 1 || msg.blocks.length > 50) return [...bad, "blocks: 1 to 50"];
  msg.blocks.forEach((b: any, i: number) => {
    const at = `blocks[${i}] ${b.type}`;
    if (b.block_id !== undefined && String(b.block_id).length > 255) bad.push(`${at}: block_id`);
    if (b.type === "header") textObject(b.text, at, 150, true);
    else if (b.type === "section") {
      if (!b.text && !b.fields) bad.push(`${at}: needs text or fields`);
      if (b.text) textObject(b.text, at, 3000);
      if (b.fields) {
        if (b.fields.length > 10) bad.push(`${at}: more than 10 fields`);
        b.fields.forEach((f: any, k: number) => textObject(f, `${at} field ${k}`, 2000));
      }
    } else if (b.type === "context") {
      if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 10) bad.push(`${at}: 1 to 10 elements`);
      b.elements.forEach((e: any, k: number) => textObject(e, `${at} element ${k}`, 3000));
    } else if (b.type === "actions") {
      if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > 25) bad.push(`${at}: 1 to 25 elements`);
      for (const e of b.elements) {
        if (e.type !== "button") bad.push(`${at}: ${e.type}`);
        textObject(e.text, `${at} button`, 75, true);
        if (typeof e.action_id !== "string" || e.action_id.length > 255) bad.push(`${at}: action_id`);
        if (e.url !== undefined && (typeof e.url !== "string" || e.url.length > 3000)) bad.push(`${at}: url`);
        if (e.style !== undefined && !["primary", "danger"].includes(e.style)) bad.push(`${at}: style ${e.style}`);
      }
    } else bad.push(`${at}: unexpected block type`);
  });
  return bad;
}

function sampleEvent(over: Partial<NotificationEvent["alert"]> = {}, type: NotificationEvent["type"] = "alert.triggered"): NotificationEvent {
  return {
    id: "msg_x",
    type,
    timestamp: "2030-01-01T00:00:00.000Z",
    tenant: { id: "acme", name: "Acme Corp" },
    alert: { id: "a1", fingerprint: "f", type: "THRESHOLD", severity: "CRITICAL", severity_level: 1, status: "OPEN", summary: "hot", device_id: "pump-7", site_id: "plant", metric_name: "temp_c", value: 90, trigger_count: 1, opened_at: "2030-01-01T00:00:00.000Z", acknowledged_by: null, closed_at: null, url: "https://pulse.example/alerts/a1", ...over },
    rule: { id: "r1", name: "Too hot" },
  };
}

describe("slack", () => {
  test("posts Block Kit with header, fields, context, a link back to Pulse and a text fallback", async () => {
    const ch = await w.channel("slack", { url: rx.url("/slack/T000/B000/XXXX") });
    await w.route(ch);
    const alertId = await lifecycle("m_slack", ["clear"], "Pump <7> & co");
    const [firing, resolved] = bodies(await rx.waitFor("/slack/T000/B000/XXXX", 2));
    for (const m of [firing!, resolved!]) expect(blockKitViolations(m)).toEqual([]);
    expect(firing!.blocks.map((b: any) => b.type)).toEqual(["header", "section", "context", "actions"]);
    expect(firing!.blocks[0].text.text).toContain("FIRING");
    expect(resolved!.blocks[0].text.text).toContain("RESOLVED");
    const fields = firing!.blocks[1].fields.map((f: any) => f.text);
    for (const [k, v] of [
      ["Severity", "CRITICAL"],
      ["Device", "pump-7"],
      ["Site", "plant"],
      ["Metric", "m_slack"],
      ["Value", "99"],
    ]) expect(fields).toContain(`*${k}*\n${v}`);
    expect(firing!.blocks[1].text.text).toContain("Pump &lt;7&gt; &amp; co");
    expect(firing!.blocks[3].elements[0].url).toBe(`${w.pulse.app.url()}/alerts/${alertId}`);
    expect(firing!.text).toContain("[FIRING][CRITICAL] Pump <7> & co");
  });

  test("cuts long text to Slack's limits without splitting a character or an escape", () => {
    const summary = "🔥&<>".repeat(3000);
    const m = slackMessage(sampleEvent({ summary, device_id: "d".repeat(64) }));
    expect(blockKitViolations(m)).toEqual([]);
    expect((m.blocks[0] as any).text.text.length).toBeLessThanOrEqual(150);
    expect((m.blocks[1] as any).text.text.length).toBeLessThanOrEqual(3000);
    expect((m.blocks[1] as any).text.text).toEndWith("…");
    expect(m.text.length).toBeLessThanOrEqual(40_000);
  });
});

// --- Teams ------------------------------------------------------------------------

const CARD_ELEMENTS: Record<string, { required: string[]; allowed: string[] }> = {
  TextBlock: { required: ["type", "text"], allowed: ["type", "text", "color", "weight", "size", "wrap", "isSubtle", "maxLines", "horizontalAlignment", "spacing", "separator", "fontType", "id", "isVisible"] },
  FactSet: { required: ["type", "facts"], allowed: ["type", "facts", "spacing", "separator", "id", "isVisible"] },
};

/** Violations of the Teams Workflows message + Adaptive Card 1.4 schema for what Pulse uses. */
function adaptiveCardViolations(msg: any): string[] {
  const bad: string[] = [];
  if (msg.type !== "message") bad.push("type: message");
  if (!Array.isArray(msg.attachments) || msg.attachments.length !== 1) return [...bad, "attachments: one"];
  const att = msg.attachments[0];
  if (att.contentType !== "application/vnd.microsoft.card.adaptive") bad.push(`contentType ${att.contentType}`);
  const card = att.content;
  if (card?.type !== "AdaptiveCard") bad.push("content.type: AdaptiveCard");
  if (card?.version !== "1.4") bad.push(`version ${card?.version}`);
  if (card?.$schema !== "http://adaptivecards.io/schemas/adaptive-card.json") bad.push("$schema");
  if (JSON.stringify(msg).includes("MessageCard")) bad.push("a MessageCard");
  for (const [i, el] of (card?.body ?? []).entries()) {
    const spec = CARD_ELEMENTS[el.type];
    if (!spec) {
      bad.push(`body[${i}]: ${el.type}`);
      continue;
    }
    for (const k of spec.required) if (el[k] === undefined) bad.push(`body[${i}] ${el.type}: no ${k}`);
    for (const k of Object.keys(el)) if (!spec.allowed.includes(k)) bad.push(`body[${i}] ${el.type}: ${k} is not in 1.4`);
    if (el.type === "TextBlock") {
      if (el.color !== undefined && !["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"].includes(el.color)) bad.push(`color ${el.color}`);
      if (el.weight !== undefined && !["Default", "Lighter", "Bolder"].includes(el.weight)) bad.push(`weight ${el.weight}`);
      if (el.size !== undefined && !["Default", "Small", "Medium", "Large", "ExtraLarge"].includes(el.size)) bad.push(`size ${el.size}`);
    }
    if (el.type === "FactSet") for (const f of el.facts) if (typeof f.title !== "string" || typeof f.value !== "string") bad.push("fact: title and value are strings");
  }
  for (const a of card?.actions ?? []) {
    if (a.type !== "Action.OpenUrl" || typeof a.url !== "string" || typeof a.title !== "string") bad.push(`action ${JSON.stringify(a)}`);
  }
  if (JSON.stringify(msg).length > 28_000) bad.push("over the 28 KB message limit");
  return bad;
}

describe("teams", () => {
  test("posts an Adaptive Card 1.4 message: coloured title, facts, a link back to Pulse", async () => {
    const ch = await w.channel("teams", { url: rx.url("/workflows/triggers/manual/paths/invoke") });
    await w.route(ch);
    rx.otherwise("/workflows/triggers/manual/paths/invoke", 202);
    const alertId = await lifecycle("m_teams", ["clear"]);
    const [firing, resolved] = bodies(await rx.waitFor("/workflows/triggers/manual/paths/invoke", 2));
    for (const m of [firing!, resolved!]) expect(adaptiveCardViolations(m)).toEqual([]);
    const card = firing!.attachments[0].content;
    expect(card.body[0]).toMatchObject({ type: "TextBlock", color: "Attention" });
    expect(resolved!.attachments[0].content.body[0].color).toBe("Good");
    const facts = Object.fromEntries(card.body.find((b: any) => b.type === "FactSet").facts.map((f: any) => [f.title, f.value]));
    expect(facts).toMatchObject({ Severity: "CRITICAL", Device: "pump-7", Site: "plant", Metric: "m_teams", Value: "99" });
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "Open in Pulse", url: `${w.pulse.app.url()}/alerts/${alertId}` }]);
    expect((await w.deliveries(ch)).every((d) => d.status === "delivered")).toBe(true);
  });

  test("colours: Attention for CRITICAL/HIGH, Warning for MEDIUM/LOW, Good when resolved", () => {
    expect(teamsColor(sampleEvent({ severity: "CRITICAL" }))).toBe("Attention");
    expect(teamsColor(sampleEvent({ severity: "HIGH" }))).toBe("Attention");
    expect(teamsColor(sampleEvent({ severity: "MEDIUM" }))).toBe("Warning");
    expect(teamsColor(sampleEvent({ severity: "LOW" }))).toBe("Warning");
    expect(teamsColor(sampleEvent({ severity: "CRITICAL" }, "alert.resolved"))).toBe("Good");
    expect(adaptiveCardViolations(teamsMessage(sampleEvent({ summary: "x".repeat(50_000) })))).toEqual([]);
  });
});

// --- PagerDuty ----------------------------------------------------------------------

/** Violations of the Events API v2 rules for one event (empty: valid). */
function pagerdutyViolations(e: any): string[] {
  const bad: string[] = [];
  if (typeof e.routing_key !== "string" || e.routing_key.length !== 32) bad.push("routing_key: 32 characters");
  if (!["trigger", "acknowledge", "resolve"].includes(e.event_action)) bad.push(`event_action ${e.event_action}`);
  if (typeof e.dedup_key !== "string" || e.dedup_key.length < 1 || e.dedup_key.length > 255) bad.push("dedup_key: 1 to 255 characters");
  const top = ["routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url"];
  for (const k of Object.keys(e)) if (!top.includes(k)) bad.push(`unknown field ${k}`);
  if (e.event_action === "trigger") {
    const p = e.payload ?? {};
    if (typeof p.summary !== "string" || p.summary.length < 1 || p.summary.length > 1024) bad.push("payload.summary: 1 to 1024 characters");
    if (typeof p.source !== "string" || !p.source) bad.push("payload.source: required");
    if (!["critical", "error", "warning", "info"].includes(p.severity)) bad.push(`payload.severity ${p.severity}`);
    if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) bad.push("payload.timestamp: ISO 8601");
    for (const k of Object.keys(p)) if (!["summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"].includes(k)) bad.push(`payload.${k}`);
    for (const l of e.links ?? []) if (typeof l.href !== "string" || (l.text !== undefined && typeof l.text !== "string")) bad.push("links: href and text");
  }
  return bad;
}

describe("pagerduty", () => {
  test("trigger, acknowledge and resolve one incident with the same dedup_key (the alert id)", async () => {
    const routingKey = "R0123456789abcdefABCDEF012345678";
    rx.otherwise("/v2/enqueue", { status: 202, headers: { "content-type": "application/json" }, body: '{"status":"success","message":"Event processed"}' });
    const ch = await w.channel("pagerduty", { routing_key: routingKey, events_url: rx.url("/v2/enqueue") });
    await w.route(ch, { transitions: ["triggered", "acknowledged", "resolved"] });
    const alertId = await lifecycle("m_pd", ["ack", "clear"]);
    const events = bodies(await rx.waitFor("/v2/enqueue", 3));
    expect(events.map((e) => e.event_action)).toEqual(["trigger", "acknowledge", "resolve"]);
    for (const e of events) {
      expect(pagerdutyViolations(e)).toEqual([]);
      expect(e.dedup_key).toBe(alertId);
      expect(e.routing_key).toBe(routingKey);
    }
    const t = events[0]!;
    expect(t.payload).toMatchObject({ source: "pump-7", severity: "critical", group: "plant", class: "THRESHOLD", component: "m_pd" });
    expect(t.payload.custom_details).toMatchObject({ tenant_id: "acme", value: "99" });
    expect(t.links).toEqual([{ href: `${w.pulse.app.url()}/alerts/${alertId}`, text: "Open the alert in Pulse" }]);
    const ds = await w.deliveries(ch);
    expect(ds.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
    expect((await w.attempts(ds[0]!.id))[0]!.status_code).toBe(202);
  });

  test("severity mapping, summary limit, and 429 retried", async () => {
    rx.script("/pd2", { status: 429, headers: { "Retry-After": "1" } }, 202);
    const ch = await w.channel("pagerduty", { routing_key: "a".repeat(32), events_url: rx.url("/pd2") });
    await w.route(ch);
    for (const [sev, metric] of [
      ["HIGH", "m_pd_h"],
      ["MEDIUM", "m_pd_m"],
      ["LOW", "m_pd_l"],
      ["INFO", "m_pd_i"],
    ]) await w.rule(metric!, { severity: sev });
    await w.send("pump-8", { m_pd_h: 99, m_pd_m: 99, m_pd_l: 99, m_pd_i: 99 });
    await w.drain();
    expect((await w.deliveries(ch)).filter((d) => d.status === "pending")).toHaveLength(1);
    await w.retryNow();
    const events = bodies(rx.at("/pd2"));
    expect(events).toHaveLength(5);
    for (const e of events) expect(pagerdutyViolations(e)).toEqual([]);
    const bySeverity = new Map(events.map((e) => [e.payload.custom_details.metric, e.payload.severity]));
    expect(Object.fromEntries(bySeverity)).toEqual({ m_pd_h: "error", m_pd_m: "warning", m_pd_l: "info", m_pd_i: "info" });
    // Summaries are cut to PagerDuty's 1024 characters.
    const long = pagerdutyEvent(sampleEvent({ summary: "é".repeat(5000) }), "a".repeat(32));
    expect(pagerdutyViolations(long)).toEqual([]);
    expect((long.payload as { summary: string }).summary).toHaveLength(1024);
    expect((await w.deliveries(ch)).every((d) => d.status === "delivered")).toBe(true);
  });
});

// --- Settings ------------------------------------------------------------------------

describe("settings", () => {
  test("are validated, and a refusal names the field", async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["http", { url: "ftp://example.com" }, "url"],
      ["http", { url: "https://example.com", method: "GET" }, "method"],
      ["http", { url: "https://example.com", body: '{"a": "{{alert.nope}}"}' }, "body"],
      ["http", { url: "https://example.com", body: '{"a": {{alert.summary}}}' }, "body"],
      ["http", { url: "https://example.com", template: "alertmanager", body: "{}" }, "body"],
      ["http", { url: "https://example.com", headers: { "Content-Length": "1" } }, "headers.Content-Length"],
      ["slack", { url: "not a url" }, "url"],
      ["slack", { url: "https://hooks.slack.com/services/x", mention: "@everyone" }, "mention"],
      ["pagerduty", { routing_key: "short" }, "routing_key"],
      ["pagerduty", { routing_key: "a".repeat(32), events_url: "mailto:x" }, "events_url"],
      ["teams", {}, "url"],
      ["email", { recipients: ["not-an-address"] }, "recipients"],
      ["email", { recipients: [] }, "recipients"],
      ["email", { recipients: ["ops@acme.test"], smtp_host: "mail.acme.test", from: "nobody" }, "from"],
      ["email", { recipients: ["ops@acme.test"], smtp_host: "mail.acme.test", from: "pulse@acme.test", smtp_security: "ssl" }, "smtp_security"],
      ["snmp", { version: "5", host: "nms.acme.test", community: "public" }, "version"],
      ["snmp", { version: "2c", host: "nms acme", community: "public" }, "host"],
      ["snmp", { version: "2c", host: "nms.acme.test" }, "community"],
      ["snmp", { version: "3", host: "nms.acme.test", user: "pulse", auth_key: "short", priv_key: "long-enough" }, "auth_key"],
      ["snmp", { version: "3", host: "nms.acme.test", user: "pulse", auth_key: "long-enough", priv_key: "long-enough", priv_protocol: "des" }, "priv_protocol"],
      ["mqtt", { topic: "alerts/{tenant_id}/{nope}" }, "topic"],
      ["mqtt", { topic: "tenant/{tenant_id}/device/pump-7/commands" }, "topic"],
      ["mqtt", { topic: "alerts/#" }, "topic"],
      ["mqtt", { broker_url: "http://broker.acme.test" }, "broker_url"],
      ["mqtt", { qos: 2 }, "qos"],
      ["nope", {}, "type"],
    ];
    for (const [type, settings, field] of cases) {
      const r = await w.api("/notification-channels", { body: { name: "x", type, settings } });
      expect([type, field, r.status]).toEqual([type, field, 400]);
      expect([type, r.body.error?.field]).toEqual([type, field]);
    }
    // The same topic is fine on an external broker, where Pulse owns nothing.
    const ok = await w.api("/notification-channels", { body: { name: "x", type: "mqtt", settings: { broker_url: "mqtts://broker.acme.test", topic: "plant/{site_id}/alarms" } } });
    expect(ok.status).toBe(201);
  });

  test("every type previews a sample alert", async () => {
    const settings: Record<string, Record<string, unknown>> = {
      webhook: { url: "https://example.com/hook" },
      http: { url: "https://example.com/am", template: "alertmanager" },
      slack: { url: "https://hooks.slack.com/services/x" },
      pagerduty: { routing_key: "a".repeat(32) },
      teams: { url: "https://example.logic.azure.com/workflows/x" },
      email: { recipients: ["ops@acme.test"] },
      snmp: { version: "2c", host: "nms.acme.test", community: "public" },
      mqtt: {},
    };
    for (const [type, s] of Object.entries(settings)) {
      const id = await w.channel(type, s);
      const p = await w.api(`/notification-channels/${id}/preview`);
      expect([type, p.status]).toEqual([type, 200]);
      expect(p.body.body).toContain(type === "snmp" ? "1.3.6.1.4.1.59999.1.0.1" : type === "http" ? '"version": "4"' : "test-device");
    }
  });
});
