// Delivery through the outbox against a real HTTP receiver that checks
// Standard Webhooks signatures: retries with one idempotency key, dead letters
// for refusals, Retry-After, 410 Gone, timeouts, and secrets that never leave
// Pulse (not through the API, not into the logs).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { withSystem } from "../../src/db/scope.ts";
import { platformAdmin } from "../helpers/cast.ts";
import { startHttpReceiver, verifyWebhook, type HttpReceiver } from "../helpers/receivers.ts";
import { startWorld, type World } from "./fixtures.ts";

const SECRET = "whsec_" + Buffer.from("pulse-webhook-secret-for-tests!").toString("base64");

let w: World;
let rx: HttpReceiver;

beforeAll(async () => {
  rx = startHttpReceiver();
  w = await startWorld({ config: { "notify.timeout_seconds": 1 } });
}, 60_000);
afterEach(() => w.reset(), 60_000);
afterAll(async () => {
  await w.stop();
  rx.stop();
}, 60_000);

/** A webhook channel to a receiver path, routed for every alert; fires metric once. */
async function fireTo(path: string, metric: string): Promise<string> {
  const channel = await w.channel("webhook", { url: rx.url(path), secret: SECRET });
  await w.route(channel);
  await w.rule(metric);
  await w.send("pump-7", { [metric]: 95 });
  await w.drain();
  return channel;
}

describe("retries", () => {
  test("500, 500, 500, 200: delivered once, every attempt with the same webhook-id and a valid signature", async () => {
    rx.script("/flaky", 500, 500, 500, 200);
    const channel = await fireTo("/flaky", "m_flaky");
    for (let i = 0; i < 3; i++) await w.retryNow();
    const reqs = await rx.waitFor("/flaky", 4);
    expect(reqs).toHaveLength(4);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const r of reqs) {
      const body = verifyWebhook(SECRET, r);
      expect(body.type).toBe("alert.triggered");
      expect(body.data.id).toBe(r.headers["webhook-id"]!);
      expect(body.data.alert.device_id).toBe("pump-7");
    }
    const [d, ...more] = await w.deliveries(channel);
    expect(more).toHaveLength(0);
    expect(d).toMatchObject({ status: "delivered", attempts: 4, idempotency_key: reqs[0]!.headers["webhook-id"] });
    expect((await w.attempts(d!.id)).map((a) => [a.ok, a.status_code])).toEqual([
      [false, 500],
      [false, 500],
      [false, 500],
      [true, 200],
    ]);
    // Delivered means done: nothing more goes out.
    await w.retryNow();
    expect(rx.at("/flaky")).toHaveLength(4);
  });

  test("one alert's notifications reach a channel in order: 'resolved' waits while 'triggered' is being retried", async () => {
    rx.script("/ordered", 503, 200, 200);
    const channel = await fireTo("/ordered", "m_ordered"); // triggered: 503, to be retried
    await w.send("pump-7", { m_ordered: 5 }); // resolved, while triggered still waits
    await w.drain();
    expect(rx.at("/ordered").map((r) => verifyWebhook(SECRET, r).type)).toEqual(["alert.triggered"]);
    expect((await w.deliveries(channel)).map((d) => d.status).sort()).toEqual(["pending", "pending"]);

    await w.retryNow();
    await rx.waitFor("/ordered", 3);
    expect(rx.at("/ordered").map((r) => verifyWebhook(SECRET, r).type)).toEqual(["alert.triggered", "alert.triggered", "alert.resolved"]);
    expect((await w.deliveries(channel)).map((d) => d.status)).toEqual(["delivered", "delivered"]);
  });

  test("400 is a dead letter at once, never retried", async () => {
    rx.script("/refuses", { status: 400, body: "bad payload" });
    const channel = await fireTo("/refuses", "m_refused");
    const [d] = await w.deliveries(channel);
    expect(d).toMatchObject({ status: "dead", attempts: 1 });
    expect(d!.last_error).toContain("400");
    const [a] = await w.attempts(d!.id);
    expect(a).toMatchObject({ ok: false, status_code: 400, response: "bad payload" });
    await w.retryNow();
    expect(rx.at("/refuses")).toHaveLength(1);
    // The dead letter can be replayed by hand, with the same id.
    rx.script("/refuses", 200);
    expect((await w.api(`/deliveries/${d!.id}/replay`, { method: "POST" })).status).toBe(202);
    await w.drain();
    expect(rx.at("/refuses")).toHaveLength(2);
    expect(rx.at("/refuses")[1]!.headers["webhook-id"]).toBe(rx.at("/refuses")[0]!.headers["webhook-id"]!);
    expect((await w.deliveries(channel))[0]!.status).toBe("delivered");
  });

  test("429 waits at least as long as Retry-After says", async () => {
    rx.script("/busy", { status: 429, headers: { "Retry-After": "120" } });
    const channel = await fireTo("/busy", "m_busy");
    const [d] = await w.deliveries(channel);
    expect(d!.status).toBe("pending");
    const [a] = await w.attempts(d!.id);
    expect(a!.status_code).toBe(429);
    // Backoff alone would retry within 5 s; Retry-After pushes it to 120 s.
    expect(new Date(d!.next_attempt_at).getTime() - new Date(a!.time).getTime()).toBeGreaterThanOrEqual(119_000);
    await w.drain();
    expect(rx.at("/busy")).toHaveLength(1);
    await w.retryNow();
    expect(rx.at("/busy")).toHaveLength(2);
    expect((await w.deliveries(channel))[0]!.status).toBe("delivered");
  });

  test("a receiver that hangs is cut off after notify.timeout_seconds and tried again", async () => {
    rx.script("/slow", "hang", 200);
    const started = Date.now();
    const channel = await fireTo("/slow", "m_slow");
    expect(Date.now() - started).toBeLessThan(20_000);
    const [d] = await w.deliveries(channel);
    expect(d!.status).toBe("pending");
    expect(d!.last_error).toContain("no answer within 1000 ms");
    await w.retryNow();
    const reqs = rx.at("/slow");
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.headers["webhook-id"]).toBe(reqs[0]!.headers["webhook-id"]!);
    expect((await w.deliveries(channel))[0]!.status).toBe("delivered");
  });
});

describe("410 Gone", () => {
  test("disables the channel, tells the tenant's admins in the audit log, and sends nothing more", async () => {
    rx.script("/gone", 410);
    const channel = await fireTo("/gone", "m_gone");
    const [d] = await w.deliveries(channel);
    expect(d!.status).toBe("dead");
    const { body: ch } = await w.api(`/notification-channels/${channel}`);
    expect(ch.enabled).toBe(false);
    expect(ch.disabled_reason).toContain("410");
    const audit = await withSystem(w.pulse.app.db, (tx) => tx.query<{ tenant_id: string; action: string; target_id: string }>("select tenant_id, action, target_id from audit_log where action = 'notify.channel_disabled'"));
    expect(audit).toEqual([{ tenant_id: "acme", action: "notify.channel_disabled", target_id: channel }]);
    // A disabled channel is not routed to.
    await w.send("pump-8", { m_gone: 99 });
    await w.retryNow();
    expect(rx.at("/gone")).toHaveLength(1);
    expect(await w.deliveries(channel)).toHaveLength(1);
  });
});

describe("secrets", () => {
  test("a webhook added without a secret gets one, shown once in the answer, and signs with it", async () => {
    const created = await w.api("/notification-channels", { body: { name: "no secret given", type: "webhook", settings: { url: rx.url("/generated") } } });
    expect(created.status).toBe(201);
    const generated = created.body.generated_secret as string;
    expect(generated).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(created.body.secrets_set).toContain("secret");
    // Never again: reading the channel shows only that a secret is set.
    const read = await w.api(`/notification-channels/${created.body.id}`);
    expect(JSON.stringify(read.body)).not.toContain(generated);
    // A secret given is the caller's own and is not echoed back.
    const given = await w.api("/notification-channels", { body: { name: "secret given", type: "webhook", settings: { url: rx.url("/given"), secret: SECRET } } });
    expect(given.body.generated_secret).toBeUndefined();

    rx.script("/generated", 200);
    await w.route(created.body.id);
    await w.rule("m_generated");
    await w.send("pump-7", { m_generated: 95 });
    await w.drain();
    const [req] = await rx.waitFor("/generated", 1);
    expect(verifyWebhook(generated, req!).type).toBe("alert.triggered");

    // Rotation: the new secret is shown once; both sign until the old one is removed.
    const rotated = await w.api(`/notification-channels/${created.body.id}/rotate-secret`, { method: "POST" });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(generated);
    expect(rotated.body.channel.secrets_set).toEqual(expect.arrayContaining(["secret", "previous_secret"]));
    // A key with the customer role (bob's) can read the channel but not rotate its secret.
    const customer = (await createApiKey({ db: w.pulse.app.db, clock: w.pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "bob's key", role: "customer" })).secret;
    expect((await w.api(`/notification-channels/${created.body.id}/rotate-secret`, { method: "POST", key: customer })).status).toBe(403);
  });

  test("are write-only in the API (secrets_set names them) and never logged", async () => {
    const secrets = {
      webhook: SECRET,
      httpToken: "tok-in-the-url-8c1f2e",
      httpHeader: "Bearer header-secret-77aa",
      slack: "T000/B000/slack-secret-x9",
      pd: "pdroutingkeysecret0123456789abcd",
      smtp: "smtp-password-secret-42",
      community: "community-secret-5",
      auth: "snmp-auth-secret-6",
      priv: "snmp-priv-secret-7",
      mqtt: "mqtt-password-secret-8",
    };
    const ids = {
      webhook: await w.channel("webhook", { url: rx.url("/s/webhook"), secret: secrets.webhook }),
      http: await w.channel("http", { url: rx.url(`/s/http?token=${secrets.httpToken}`), secret_headers: { Authorization: secrets.httpHeader } }),
      slack: await w.channel("slack", { url: rx.url(`/s/slack/${secrets.slack}`) }),
      pagerduty: await w.channel("pagerduty", { routing_key: secrets.pd, events_url: rx.url("/s/pd") }),
      email: await w.channel("email", { recipients: ["ops@acme.test"], smtp_host: "127.0.0.1", smtp_port: 1, smtp_security: "none", smtp_username: "pulse", smtp_password: secrets.smtp, from: "Pulse <pulse@acme.test>" }),
      snmp2: await w.channel("snmp", { version: "2c", host: "127.0.0.1", port: 1, community: secrets.community }),
      snmp3: await w.channel("snmp", { version: "3", host: "127.0.0.1", port: 1, user: "pulse", auth_key: secrets.auth, priv_key: secrets.priv }),
      mqtt: await w.channel("mqtt", { broker_url: "mqtt://127.0.0.1:1", username: "pulse", password: secrets.mqtt }),
    };
    for (const id of Object.values(ids)) await w.route(id);
    await w.rule("m_secret");
    await w.send("pump-7", { m_secret: 99 });
    await w.drain();

    const { body: one } = await w.api(`/notification-channels/${ids.http}`);
    expect(one.secrets_set.sort()).toEqual(["secret_headers", "url"]);
    expect((await w.api(`/notification-channels/${ids.webhook}`)).body.secrets_set).toEqual(["url", "secret"]);
    expect((await w.api(`/notification-channels/${ids.pagerduty}`)).body.secrets_set).toEqual(["routing_key"]);
    expect((await w.api(`/notification-channels/${ids.email}`)).body.secrets_set).toEqual(["smtp_password"]);
    expect((await w.api(`/notification-channels/${ids.snmp3}`)).body.secrets_set).toEqual(["auth_key", "priv_key"]);
    expect((await w.api(`/notification-channels/${ids.mqtt}`)).body.secrets_set).toEqual(["broker_url", "password"]);

    // An edit without the secrets keeps them (the receiver still gets the token).
    expect((await w.api(`/notification-channels/${ids.http}`, { method: "PATCH", body: { settings: { method: "PUT" } } })).status).toBe(200);
    expect((await w.api(`/notification-channels/${ids.http}/test`, { method: "POST" })).body.ok).toBe(true);
    const last = rx.at("/s/http").at(-1)!;
    expect(last.method).toBe("PUT");
    expect(last.headers.authorization).toBe(secrets.httpHeader);

    const seen = JSON.stringify([
      (await w.api("/notification-channels")).body,
      ...(await Promise.all(Object.values(ids).map(async (id) => [(await w.api(`/notification-channels/${id}`)).body, (await w.api(`/notification-channels/${id}/preview`)).body]))),
      (await w.api("/deliveries?limit=500")).body,
      ...(await Promise.all((await w.deliveries()).map((d) => w.attempts(d.id)))),
    ]);
    const logs = JSON.stringify(w.pulse.logs);
    // The failures above (SMTP, MQTT to port 1) were logged or recorded: make sure those paths ran.
    expect((await w.deliveries()).filter((d) => d.status !== "delivered").length).toBeGreaterThan(0);
    for (const s of Object.values(secrets)) {
      expect(seen).not.toContain(s);
      expect(logs).not.toContain(s);
    }
    expect(seen).not.toContain(SECRET.slice(6));
    const rows = await withSystem(w.pulse.app.db, (tx) => tx.query<{ secrets: string; config: unknown }>("select secrets, config from notification_channels"));
    for (const s of Object.values(secrets)) expect(JSON.stringify(rows)).not.toContain(s);
  });
});
