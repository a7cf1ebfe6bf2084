import { afterAll, beforeAll, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { createApiKey } from "../../src/auth/apikeys/service.ts";
import { DEVICES_CHANNEL, notifyChange } from "../../src/db/bus.ts";
import { withSystem } from "../../src/db/scope.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

let pulse: TestPulse;
let key: string;
const received: Array<{ headers: Record<string, string>; body: string }> = [];
let answers = [500, 500, 200];
const receiver = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (req) => {
  received.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
  return new Response("ok", { status: answers.shift() ?? 200 });
} });

beforeAll(async () => {
  pulse = await startPulse({ db: (process.env.KIND as "pglite") ?? "pglite", config: { "notify.allow_private_networks": true } });
  await seedCast(pulse.app);
  key = (await createApiKey({ db: pulse.app.db, clock: pulse.app.clock }, { ...platformAdmin, tenantId: "acme" }, { name: "k", role: "tenant-admin" })).secret;
  await withSystem(pulse.app.db, async (tx) => {
    await tx.query("insert into sites (tenant_id, id, name) values ('acme', 'plant', 'Plant')");
    await tx.query("insert into devices (tenant_id, id, site_id) values ('acme', 'pump-7', 'plant')");
    await tx.query("insert into device_tokens (tenant_id, device_id, token_hash) values ('acme', 'pump-7', $1)", [sha256Hex("tok")]);
    await notifyChange(tx, DEVICES_CHANNEL, "acme/pump-7");
  });
});
afterAll(async () => { await pulse.stop(); receiver.stop(true); });

const api = (path: string, init: RequestInit = {}) => fetch(`${pulse.url}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, "content-type": "application/json" } });

test("webhook retries and signs", async () => {
  const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789").toString("base64");
  const ch = await api("/notification-channels", { method: "POST", body: JSON.stringify({ name: "hook", type: "webhook", settings: { url: `http://127.0.0.1:${receiver.port}/hook`, secret } }) });
  const channel = (await ch.json()) as { id: string; secrets_set: string[] };
  console.log(ch.status, channel);
  const r = await api("/notification-routing-rules", { method: "POST", body: JSON.stringify({ name: "all", channel_id: channel.id }) });
  console.log(r.status, await r.text());
  await api("/alert-rules", { method: "POST", body: JSON.stringify({ name: "Too hot", metric_name: "temp_c", operator: "GT", threshold: 80, severity: "CRITICAL" }) });
  await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/pump-7/telemetry`, { method: "POST", headers: { "X-Provision-Token": "tok" }, body: JSON.stringify({ metrics: { temp_c: 90 } }) });
  await pulse.app.alerts.engine.idle();
  await pulse.app.drainOutbox();
  await withSystem(pulse.app.db, (tx) => tx.query("update notification_outbox set next_attempt_at = now()"));
  await pulse.app.drainOutbox();
  await withSystem(pulse.app.db, (tx) => tx.query("update notification_outbox set next_attempt_at = now()"));
  await pulse.app.drainOutbox();
  console.log(received.length, received.map((x) => x.headers["webhook-id"]));
  const wh = new Webhook(secret);
  const last = received.at(-1)!;
  const payload = wh.verify(last.body, { "webhook-id": last.headers["webhook-id"]!, "webhook-timestamp": last.headers["webhook-timestamp"]!, "webhook-signature": last.headers["webhook-signature"]! });
  console.log(JSON.stringify(payload).slice(0, 300));
  const d = (await (await api("/deliveries")).json()) as { items: Array<{ id: number; status: string; attempts: number }> };
  console.log(d.items);
  expect(new Set(received.map((x) => x.headers["webhook-id"])).size).toBe(1);
  expect(d.items[0]!.status).toBe("delivered");
});
