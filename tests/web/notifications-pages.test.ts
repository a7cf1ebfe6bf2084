// The Notifications pages over plain HTTP, as a browser without JavaScript
// sees them: every channel type is created through its own form with the
// settings its validate() takes, and none of its secrets ever comes back in
// a page; refusals sit next to the field they name; an edit that leaves the
// secrets empty keeps them and a tick removes an optional one; a test send
// shows a failing receiver's answer; previews are escaped; a webhook's
// secret rotates with both secrets signing until the previous is removed;
// an SNMP channel names the engine id and links the MIB; routing rules keep
// every field; the delivery log filters and pages with its filters kept, and
// dead letters replay one or several at once. Carol at globex reaches none
// of acme's; bob reads; oscar is asked to choose a tenant. The pure helpers
// behind the forms are checked directly.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { CHANNEL_FORMS, channelForm, parseHeaderLines, settingsFromForm } from "../../web/components/channel-forms.ts";
import { eventWord, parseDeliveryFilters } from "../../web/pages/notifications-deliveries.ts";
import { activeHoursText, routeInputFrom } from "../../web/pages/notifications-routes.ts";
import { flashOf, postForm } from "../e2e/alerts-fixtures.ts";
import { startNotifyStage, type NotifyStage } from "../e2e/notifications-fixtures.ts";
import { verifyWebhook } from "../helpers/receivers.ts";

let stage: NotifyStage;

beforeAll(async () => {
  stage = await startNotifyStage();
}, 60_000);
afterAll(() => stage?.stop(), 30_000);

type Who = "alice" | "bob" | "carol" | "oscar";
const page = async (who: Who, path: string, status = 200) => {
  const res = await (await stage.agent(who)).fetch(path);
  expect(res.status).toBe(status);
  return res.text();
};
const post = async (who: Who, path: string, fields: Record<string, string | string[]> = {}) => postForm(await stage.agent(who), path, fields);
const channels = async () => (await stage.world.api<{ items: Array<{ id: string; name: string; type: string; config: Record<string, any>; secrets_set: string[]; enabled: boolean }> }>("/notification-channels")).body.items;
const channelNamed = async (name: string) => (await channels()).find((c) => c.name === name)!;
/** The field an error sits next to, by the input's name. */
const errorAt = (html: string, name: string) => new RegExp(`field-invalid[\\s\\S]{0,600}?name="${name}"[\\s\\S]{0,1200}?class="field-error"[^>]*>([^<]*)<`).exec(html)?.[1];

// Every secret typed into the forms below; none may ever come back in a page.
const SECRETS = ["s3cr3t-http-token", "tok-http-123", "slacksecret123", "pdkey000000000000000000000000000", "teamssecret456", "smtp-pass-789", "authkey-snmp-1", "privkey-snmp-2", "brokerpass", "mqtt-pass-3"];

describe("channels, one form per type", () => {
  test("each type is created through its form with the settings its validate() takes", async () => {
    const rx = stage.receiver;
    const forms: Record<string, Record<string, string>> = {
      http: {
        url: rx.url("/http?token=s3cr3t-http-token"),
        method: "PUT",
        template: "custom",
        content_type: "application/json",
        body: '{"text": "{{alert.summary}}", "sev": {{alert.severity | json}}}',
        headers: "X-Source: pulse",
        secret_headers: "Authorization: Bearer tok-http-123",
        receiver: "pulse",
      },
      slack: { url: "https://hooks.slack.test/services/T0/B0/slacksecret123", mention: "<!here>" },
      pagerduty: { routing_key: "pdkey000000000000000000000000000", events_url: rx.url("/pd") },
      teams: { url: "https://example.logic.azure.test/workflows/teamssecret456" },
      email: { recipients: "ops@acme.test, oncall@acme.test", smtp_host: "smtp.acme.test", smtp_port: "2525", smtp_security: "none", smtp_username: "pulse", smtp_password: "smtp-pass-789", from: "Pulse <pulse@acme.test>" },
      snmp: { version: "3", host: "127.0.0.1", port: "1162", user: "pulse", auth_protocol: "sha256", auth_key: "authkey-snmp-1", priv_protocol: "aes", priv_key: "privkey-snmp-2" },
      mqtt: { broker_url: "mqtt://user:brokerpass@127.0.0.1:1883", username: "", password: "mqtt-pass-3", topic: "alerts/{tenant_id}/{severity}", qos: "0", retain: "on" },
    };
    for (const [type, fields] of Object.entries(forms)) {
      // Every field the form posts is one the page renders.
      const form = await page("alice", `/notifications/channels/new?type=${type}`);
      for (const name of Object.keys(fields)) expect(form).toContain(`name="${name}"`);
      const res = await post("alice", "/notifications/channels", { type, name: `${type} channel`, ...fields });
      expect(res.status).toBe(303);
      expect(flashOf(res)?.text).toBe(`Created “${type} channel”. Send a test to see that it arrives.`);
    }
    const all = await channels();
    const of = (t: string) => all.find((c) => c.type === t)!;
    expect(of("http").config).toMatchObject({ method: "PUT", template: "custom", headers: { "X-Source": "pulse" } });
    expect(of("http").secrets_set.sort()).toEqual(["secret_headers", "url"]);
    expect(of("slack").config.mention).toBe("<!here>");
    expect(of("pagerduty").config.eventsUrl).toBe(rx.url("/pd"));
    expect(of("email").config.smtp).toMatchObject({ host: "smtp.acme.test", port: 2525, security: "none", username: "pulse" });
    expect(of("email").secrets_set).toEqual(["smtp_password"]);
    expect(of("snmp").config).toMatchObject({ version: "3", port: 1162, user: "pulse", authProtocol: "sha256" });
    expect(of("snmp").secrets_set.sort()).toEqual(["auth_key", "priv_key"]);
    expect(of("mqtt").config).toMatchObject({ broker: "mqtt://127.0.0.1:1883", qos: 0, retain: true, topic: "alerts/{tenant_id}/{severity}" });
    expect(of("mqtt").secrets_set.sort()).toEqual(["broker_url", "password"]);
    // No page shows a secret: the list, each channel, its edit form, its preview.
    const pages = [await page("alice", "/notifications")];
    for (const c of all) pages.push(await page("alice", `/notifications/channels/${c.id}`), await page("alice", `/notifications/channels/${c.id}/edit`), await page("alice", `/notifications/channels/${c.id}?preview=1`));
    for (const html of pages) for (const s of SECRETS) expect(html).not.toContain(s);
    const list = pages[0]!;
    expect(list).toContain('data-secret-field="smtp_password" title="Set (write-only)"');
    expect(list).toContain('data-secret-field="community" title="Not set"');
  });

  test("a webhook without a secret gets one, shown once; the list never shows it or its URL", async () => {
    const res = await post("alice", "/notifications/channels", { type: "webhook", name: "Signed hook", url: stage.receiver.url("/signed"), secret: "", headers: "", github_signature: "on" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    const secret = /id="webhook-secret"[^>]*>(whsec_[^<]+)</.exec(html)![1]!;
    const ch = await channelNamed("Signed hook");
    expect(ch.config.githubSignature).toBe(true);
    const test = await (await post("alice", `/notifications/channels/${ch.id}/test`)).text();
    expect(test).toContain('data-test-result="ok"');
    const [req] = await stage.receiver.waitFor("/signed", 1);
    expect(verifyWebhook(secret, req!).type).toBe("test");
    expect(req!.headers["x-hub-signature-256"]).toMatch(/^sha256=/);
    for (const path of ["/notifications", `/notifications/channels/${ch.id}`, `/notifications/channels/${ch.id}/edit`]) {
      const p = await page("alice", path);
      expect(p).not.toContain(secret);
      expect(p).not.toContain(stage.receiver.url("/signed"));
    }
  });

  test("refusals sit next to the field they name, and what was typed into secret fields is not sent back", async () => {
    let res = await post("alice", "/notifications/channels", { type: "webhook", name: "Bad hook", url: "not a url", secret: "whsec_typed-but-refused" });
    expect(res.status).toBe(400);
    let html = await res.text();
    expect(errorAt(html, "url")).toBe("An http(s) URL");
    expect(html).not.toContain("whsec_typed-but-refused");
    expect(html).toContain('value="Bad hook"');
    res = await post("alice", "/notifications/channels", { type: "webhook", name: "Bad hook", url: "https://example.test/h", headers: "no colon here" });
    expect(errorAt(await res.text(), "headers")).toContain("One header per line as Name: value");
    res = await post("alice", "/notifications/channels", { type: "pagerduty", name: "PD", routing_key: "short" });
    expect(errorAt(await res.text(), "routing_key")).toContain("32-character integration key");
    res = await post("alice", "/notifications/channels", { type: "http", name: "H", url: "https://example.test/h", template: "custom", content_type: "application/json", body: "{{alert.summary}}" });
    expect(errorAt(await res.text(), "body")).toContain("Not valid JSON once filled in");
    res = await post("alice", "/notifications/channels", { type: "snmp", name: "S", version: "3", host: "nms.test", user: "u", auth_key: "", priv_key: "longenough" });
    expect(errorAt(await res.text(), "auth_key")).toBe("8 to 128 characters");
    res = await post("alice", "/notifications/channels", { type: "slack", name: "", url: "https://hooks.slack.test/x" });
    expect(errorAt(await res.text(), "name")).toBeDefined();
    expect((await channels()).some((c) => c.name === "Bad hook")).toBe(false);
  });

  test("an edit that leaves secrets empty keeps them; a tick removes an optional one", async () => {
    const email = await channelNamed("email channel");
    let res = await post("alice", `/notifications/channels/${email.id}`, { name: "Ops mail", recipients: "ops@acme.test", smtp_host: "smtp.acme.test", smtp_port: "", smtp_security: "starttls", smtp_username: "pulse", smtp_password: "", from: "Pulse <pulse@acme.test>" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Saved “Ops mail”. Secrets left empty were kept.");
    const saved = await channelNamed("Ops mail");
    expect(saved.config.smtp.port).toBe(587);
    expect(saved.secrets_set).toEqual(["smtp_password"]);
    const mqtt = await channelNamed("mqtt channel");
    res = await post("alice", `/notifications/channels/${mqtt.id}`, { name: "mqtt channel", broker_url: "", username: "", password: "", clear_password: "on", topic: "alerts/{tenant_id}/{severity}", qos: "1" });
    expect(res.status).toBe(303);
    const after = await channelNamed("mqtt channel");
    expect(after.secrets_set).toEqual(["broker_url"]);
    expect(after.config).toMatchObject({ qos: 1, retain: false, broker: "mqtt://127.0.0.1:1883" });
    const edit = await page("alice", `/notifications/channels/${mqtt.id}/edit`);
    expect(edit).toContain('name="clear_broker_url"');
    expect(edit).not.toContain('name="clear_password"');
  });

  test("a test send shows a failing receiver's answer; a preview is escaped and sends nothing", async () => {
    stage.receiver.otherwise("/fail", { status: 500, body: "boom <b>bold</b>" });
    const fail = await post("alice", "/notifications/channels", { type: "http", name: "Failing", url: stage.receiver.url("/fail"), template: "custom", content_type: "text/html", body: "<p>{{alert.summary}}</p>" });
    expect(fail.status).toBe(303);
    const id = (await channelNamed("Failing")).id;
    const html = await (await post("alice", `/notifications/channels/${id}/test`)).text();
    expect(html).toContain('data-test-result="failed"');
    expect(html).toMatch(/data-test-status[^>]*>500</);
    expect(html).toContain("HTTP 500");
    expect(html).toContain("boom &lt;b>bold&lt;/b>");
    const before = stage.receiver.at("/fail").length;
    const preview = await page("alice", `/notifications/channels/${id}?preview=1`);
    expect(preview).toMatch(/<pre class="preview-body">&lt;p>Test notification from Pulse[^<]*&lt;\/p><\/pre>/);
    expect(stage.receiver.at("/fail").length).toBe(before);
  });

  test("rotating a webhook secret: the new one is shown once, both sign until the previous one is removed", async () => {
    const created = await (await post("alice", "/notifications/channels", { type: "webhook", name: "Rotating", url: stage.receiver.url("/rot") })).text();
    const first = /id="webhook-secret"[^>]*>(whsec_[^<]+)</.exec(created)![1]!;
    const id = (await channelNamed("Rotating")).id;
    const rotated = await post("alice", `/notifications/channels/${id}/rotate`);
    expect(rotated.status).toBe(200);
    const second = /id="webhook-secret"[^>]*>(whsec_[^<]+)</.exec(await rotated.text())![1]!;
    expect(second).not.toBe(first);
    expect(await page("alice", `/notifications/channels/${id}`)).toContain("<strong>two signatures</strong>");
    await post("alice", `/notifications/channels/${id}/test`);
    let [req] = await stage.receiver.waitFor("/rot", 1);
    expect(verifyWebhook(first, req!).type).toBe("test");
    expect(verifyWebhook(second, req!).type).toBe("test");
    const removed = await post("alice", `/notifications/channels/${id}/previous-secret/remove`);
    expect(flashOf(removed)?.text).toBe("The previous secret no longer signs: only the current one does.");
    await post("alice", `/notifications/channels/${id}/test`);
    req = (await stage.receiver.waitFor("/rot", 2))[1];
    expect(() => verifyWebhook(first, req!)).toThrow();
    expect(verifyWebhook(second, req!).type).toBe("test");
  });

  test("an SNMP v3 channel names this installation's engine id and links the MIB (a session GET)", async () => {
    const snmp = await channelNamed("snmp channel");
    const html = await page("alice", `/notifications/channels/${snmp.id}`);
    expect(snmp.config.engine_id).toMatch(/^8000ea5f05[0-9a-f]{24}$/);
    expect(html).toContain(`<code data-engine-id="true">${snmp.config.engine_id}</code>`);
    expect(html).toContain(`createUser -e 0x${snmp.config.engine_id} pulse SHA-256 &quot;&lt;auth key>&quot; AES`);
    expect(html).toContain('href="/api/v1/notification-channels/snmp/mib"');
    const mib = await (await stage.agent("alice")).fetch("/api/v1/notification-channels/snmp/mib");
    expect(mib.status).toBe(200);
    expect(await mib.text()).toContain("PULSE-MIB DEFINITIONS ::= BEGIN");
  });

  test("disable, enable and delete, each with what it did", async () => {
    const teams = await channelNamed("teams channel");
    let res = await post("alice", `/notifications/channels/${teams.id}/disable`);
    expect(flashOf(res)?.text).toContain("Disabled “teams channel”");
    expect((await channelNamed("teams channel")).enabled).toBe(false);
    expect(await page("alice", "/notifications")).toContain('data-action="enable"');
    res = await post("alice", `/notifications/channels/${teams.id}/enable`);
    expect(flashOf(res)?.text).toContain("Enabled “teams channel”");
    await stage.world.route(teams.id);
    expect(await page("alice", `/notifications/channels/${teams.id}`)).toContain("Its routing rules and queued deliveries go too");
    res = await post("alice", `/notifications/channels/${teams.id}/delete`);
    expect(res.headers.get("location")).toBe("/notifications");
    expect(flashOf(res)?.text).toBe("Deleted “teams channel” with its routing rules and its deliveries.");
    expect((await stage.world.api("/notification-routing-rules")).body.items.some((r: { channel_id: string }) => r.channel_id === teams.id)).toBe(false);
  });
});

describe("routing rules", () => {
  test("every field through the form, said in words in the list, and back in the edit form", async () => {
    const slack = await channelNamed("slack channel");
    const fields = {
      name: "Night heartbeats",
      channel_id: slack.id,
      min_severity: "MEDIUM",
      alert_types: ["NO_HEARTBEAT"],
      sites: ["plant"],
      tags: "zone=north",
      transitions: ["triggered", "acknowledged"],
      throttle: "2",
      throttle_unit: "h",
      hours_on: "on",
      hours_start: "22:00",
      hours_end: "06:00",
      hours_zone: "Europe/Berlin",
      hours_days: ["MO", "TU"],
      enabled: "on",
    };
    const res = await post("alice", "/notifications/routes", fields);
    expect(res.status).toBe(303);
    const stored = (await stage.world.api("/notification-routing-rules")).body.items.find((r: { name: string }) => r.name === "Night heartbeats");
    expect(stored).toMatchObject({
      channel_id: slack.id,
      min_severity: "MEDIUM",
      alert_types: ["NO_HEARTBEAT"],
      scope: { sites: ["plant"], tags: { zone: "north" } },
      transitions: ["triggered", "acknowledged"],
      throttle_seconds: 7200,
      active_hours: { start: "22:00", end: "06:00", timezone: "Europe/Berlin", days: ["MO", "TU"] },
      enabled: true,
    });
    const list = await page("alice", "/notifications/routes");
    for (const words of ["Night heartbeats", "No heartbeat", "site plant · tag zone=north", "triggered, acknowledged", "once per 2 h", "Mon, Tue 22:00–06:00 Europe/Berlin", "and above"]) expect(list).toContain(words);
    const edit = await page("alice", `/notifications/routes/${stored.id}`);
    expect(edit).toContain('value="22:00"');
    expect(edit).toMatch(/<option value="Europe\/Berlin" selected/);
    expect(edit).toMatch(/name="hours_days" value="TU" checked/);
    expect(edit).not.toMatch(/name="hours_days" value="WE" checked/);
    expect(edit).toMatch(/name="alert_types" value="NO_HEARTBEAT" checked/);
    // Saved again unchanged but disabled.
    const again = await post("alice", `/notifications/routes/${stored.id}`, { ...fields, enabled: "" });
    expect(flashOf(again)?.text).toBe("Saved “Night heartbeats”.");
    expect((await stage.world.api("/notification-routing-rules")).body.items.find((r: { id: string }) => r.id === stored.id).enabled).toBe(false);
  });

  test("refusals sit next to their field", async () => {
    const slack = await channelNamed("slack channel");
    const base = { name: "R", channel_id: slack.id, min_severity: "HIGH", transitions: ["triggered"], throttle: "0", throttle_unit: "min" };
    const cases: Array<[Record<string, string | string[]>, string, string]> = [
      [{ channel_id: "" }, "channel_id", "A channel id"],
      [{ tags: "zone" }, "tags", "Write tags as key=value"],
      [{ throttle: "abc" }, "throttle", "Whole seconds from 0 to 604800"],
      [{ transitions: [] }, "transitions", "Tick at least one: triggered, acknowledged or resolved."],
      [{ hours_on: "on", hours_start: "08:00", hours_end: "", hours_zone: "UTC" }, "hours_end", "HH:MM"],
      [{ name: "" }, "name", ""],
    ];
    for (const [change, field, says] of cases) {
      const res = await post("alice", "/notifications/routes", { ...base, ...change });
      expect(res.status).toBe(400);
      const error = errorAt(await res.text(), field);
      expect(error).toBeDefined();
      expect(error).toContain(says);
    }
  });
});

describe("deliveries", () => {
  test("the log filters by state, channel and alert; pages keep the filters; dead letters replay one or several", async () => {
    const hook = await stage.world.channel("webhook", { url: stage.receiver.url("/bulk") }, "Bulk hook");
    // 55 dead letters of an earlier outage, oldest first (seeded: the pages read them through the services).
    await withSystem(stage.world.pulse.app.db, async (tx) => {
      for (let i = 0; i < 55; i++)
        await tx.query(
          `insert into notification_outbox (tenant_id, channel_id, alert_id, event, idempotency_key, payload, status, attempts, next_attempt_at, created_at, give_up_at, last_error)
           values ('acme', $1, null, 'alert.triggered', $2, $3::jsonb, 'dead', 1, now(), now(), now(), 'HTTP 503')`,
          [hook, `msg_old_${i}`, JSON.stringify({ id: `msg_old_${i}`, type: "alert.triggered", n: i })],
        );
    });
    let html = await page("alice", `/notifications/deliveries?status=dead&channel=${hook}`);
    expect(html.match(/data-delivery="/g)?.length).toBe(50);
    const next = /<a class="btn" rel="next" href="([^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    expect(next).toContain("status=dead");
    expect(next).toContain(`channel=${hook}`);
    html = await page("alice", next);
    expect(html.match(/data-delivery="/g)?.length).toBe(5);
    expect(html).toContain('rel="prev"');
    // Replay three at once (newest first: 4, 3, 2), then one alone (other ticked boxes are ignored then).
    const ids = [...html.matchAll(/name="ids" value="(\d+)"/g)].map((m) => m[1]!);
    let res = await post("alice", "/notifications/deliveries/replay", { ids: ids.slice(0, 3), back: next });
    expect(res.headers.get("location")).toBe(next);
    expect(flashOf(res)?.text).toBe("Replayed 3 deliveries: sent again with the same idempotency key.");
    res = await post("alice", "/notifications/deliveries/replay", { ids: ids.slice(3), only: ids[3]!, back: next });
    expect(flashOf(res)?.text).toBe("Replayed 1 delivery: sent again with the same idempotency key.");
    res = await post("alice", "/notifications/deliveries/replay", { only: ids[0]!, back: next });
    expect(flashOf(res)?.text).toBe("Nothing replayed: those are no longer dead letters.");
    await stage.world.drain();
    const got = await stage.receiver.waitFor("/bulk", 4);
    expect(got.map((r) => r.headers["webhook-id"]).sort()).toEqual(["msg_old_1", "msg_old_2", "msg_old_3", "msg_old_4"]);
    html = await page("alice", `/notifications/deliveries?status=delivered&channel=${hook}`);
    expect(html.match(/data-delivery="/g)?.length).toBe(4);
    expect(html).toContain("4 shown, newest first");
    // A filter that cannot be an id is named, not a failure.
    html = await page("alice", "/notifications/deliveries?alert=pump-7");
    expect(html).toContain("“pump-7” is not an alert id");
  });

  test("a real alert's deliveries link to it, and the alert filter finds them", async () => {
    await stage.world.route((await channelNamed("Signed hook")).id, { name: "everything to the signed hook" });
    const alertId = await stage.raise("pump-7", "pressure", 120);
    const html = await page("alice", `/notifications/deliveries?alert=${alertId}`);
    expect(html).toContain(`href="/alerts/${alertId}"`);
    expect(html.match(/data-delivery="/g)?.length).toBeGreaterThanOrEqual(1);
    expect(html).not.toContain("msg_old_");
  });
});

describe("who sees and does what", () => {
  test("carol at globex reaches none of acme's channels, rules or deliveries", async () => {
    const acme = await channelNamed("slack channel");
    expect(await page("carol", "/notifications")).toContain("No channels yet");
    await page("carol", `/notifications/channels/${acme.id}`, 404);
    await page("carol", `/notifications/channels/${acme.id}/edit`, 404);
    expect((await post("carol", `/notifications/channels/${acme.id}/test`)).status).toBe(404);
    expect((await post("carol", `/notifications/channels/${acme.id}/disable`)).headers.get("location")).toBe(`/notifications/channels/${acme.id}`);
    expect((await channelNamed("slack channel")).enabled).toBe(true);
    const deliveries = await page("carol", "/notifications/deliveries");
    expect(deliveries).toContain("Nothing sent yet");
    const [dead] = await withSystem(stage.world.pulse.app.db, (tx) => tx.query<{ id: number }>("select id from notification_outbox where tenant_id = 'acme' and status = 'dead' limit 1"));
    const res = await post("carol", "/notifications/deliveries/replay", { only: String(dead!.id) });
    expect(flashOf(res)?.text).toBe("Nothing replayed: those are no longer dead letters.");
    const [still] = await withSystem(stage.world.pulse.app.db, (tx) => tx.query<{ status: string }>("select status from notification_outbox where id = $1", [dead!.id]));
    expect(still!.status).toBe("dead");
    expect(await page("carol", "/notifications/routes")).not.toContain("Night heartbeats");
  });

  test("bob reads without buttons and is refused if he posts anyway; oscar chooses a tenant first", async () => {
    const slack = await channelNamed("slack channel");
    const list = await page("bob", "/notifications");
    expect(list).toContain("slack channel");
    expect(list).not.toContain('method="post" action="/notifications/channels/');
    expect(list).not.toContain("New channel</a>");
    const detail = await page("bob", `/notifications/channels/${slack.id}`);
    expect(detail).not.toContain("Send test");
    expect(detail).not.toContain("/delete");
    expect(detail).toContain("?preview=1");
    await page("bob", "/notifications/channels/new", 403);
    await page("bob", "/notifications/routes/new", 403);
    expect((await post("bob", `/notifications/channels/${slack.id}/test`)).status).toBe(403);
    expect(flashOf(await post("bob", `/notifications/channels/${slack.id}/disable`))?.text).toContain("may not change notification channels");
    const dead = await page("bob", "/notifications/deliveries?status=dead");
    expect(dead).not.toContain("Replay");
    expect(dead).not.toContain('name="ids"');
    const route = await page("bob", "/notifications/routes");
    expect(route).not.toContain("New routing rule</a>");
    expect(await page("oscar", "/notifications")).toContain("Notifications belong to a tenant");
    expect(await page("oscar", "/notifications/deliveries")).toContain("Choose a tenant in the top bar");
  });
});

describe("the helpers behind the forms", () => {
  test("settings from a form: secrets left empty are left out, ticks clear, headers are read", () => {
    const http = channelForm("http")!;
    const s = settingsFromForm(http, { url: "", method: "POST", template: "custom", headers: "A: 1\n\nB:  two words ", secret_headers: "", clear_secret_headers: "on", body: "", content_type: "application/json", receiver: "pulse" });
    expect(s).toEqual({ method: "POST", template: "custom", headers: { A: "1", B: "two words" }, secret_headers: null, body: "", content_type: "application/json", receiver: "pulse" });
    expect("url" in s).toBe(false);
    expect(settingsFromForm(channelForm("mqtt")!, { retain: "on", qos: "0" })).toMatchObject({ retain: true, qos: "0" });
    expect(() => parseHeaderLines("X-Ok: 1\nbroken", "headers")).toThrow("one header per line");
    // Every type's form names only settings its channel takes, and marks its secret fields.
    const secrets = Object.fromEntries(CHANNEL_FORMS.map((f) => [f.type, f.fields.filter((x) => x.secret).map((x) => x.name)]));
    expect(secrets).toEqual({
      webhook: ["url", "secret"],
      http: ["url", "secret_headers"],
      slack: ["url"],
      pagerduty: ["routing_key"],
      teams: ["url"],
      email: ["smtp_password"],
      snmp: ["community", "auth_key", "priv_key"],
      mqtt: ["broker_url", "password"],
    });
  });

  test("route input, active hours in words, delivery filters", () => {
    expect(routeInputFrom({ name: "n", channel_id: "c", alert_types: "THRESHOLD", sites: "a,b", tags: "k=v", transitions: "triggered", throttle: "90", throttle_unit: "s", enabled: "on" })).toEqual({
      name: "n",
      channel_id: "c",
      min_severity: "INFO",
      alert_types: ["THRESHOLD"],
      scope: { sites: ["a", "b"], tags: { k: "v" } },
      transitions: ["triggered"],
      throttle_seconds: 90,
      active_hours: null,
      enabled: true,
    });
    expect(activeHoursText(null)).toBe("Always");
    expect(activeHoursText({ start: "08:00", end: "18:00", timezone: "UTC", days: ["FR", "MO"] })).toBe("Mon, Fri 08:00–18:00 UTC");
    expect(parseDeliveryFilters(new URLSearchParams("status=dead&cursor=42&alert=x"))).toMatchObject({ status: "dead", beforeId: 42, alertId: undefined });
    expect(parseDeliveryFilters(new URLSearchParams("status=weird")).status).toBeUndefined();
    expect(eventWord("alert.acknowledged")).toBe("Acknowledged");
  });
});
