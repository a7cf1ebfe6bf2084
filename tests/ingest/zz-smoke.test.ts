import { afterAll, beforeAll, expect, test } from "bun:test";
import mqtt from "mqtt";
import { withSystem } from "/work/main/src/db/scope.ts";
import { sha256Hex } from "/work/main/src/lib/ids.ts";
import { seedCast } from "/work/main/tests/helpers/cast.ts";
import { startPulse, type TestPulse } from "/work/main/tests/helpers/pulse.ts";

let pulse: TestPulse;
beforeAll(async () => {
  pulse = await startPulse({ db: (process.env.KIND as "pglite") ?? "pglite" });
  await seedCast(pulse.app);
  await withSystem(pulse.app.db, async (tx) => {
    await tx.query("insert into sites (tenant_id, id, name) values ('acme', 'lab-1', 'Lab')");
    await tx.query("insert into devices (tenant_id, id, site_id) values ('acme', 'd1', 'lab-1')");
    await tx.query("insert into device_tokens (tenant_id, device_id, token_hash) values ('acme', 'd1', $1)", [sha256Hex("tok-d1")]);
  });
});
afterAll(() => pulse.stop());

test("http and mqtt", async () => {
  const r = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/d1/telemetry`, { method: "POST", headers: { "X-Provision-Token": "tok-d1" }, body: JSON.stringify({ version: "1", metrics: { temp_c: 21.5 }, seq: 1 }) });
  console.log(r.status, await r.text());
  const bad = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/d1/telemetry`, { method: "POST", headers: { "X-Provision-Token": "nope" }, body: JSON.stringify({ metrics: { temp_c: 21.5 } }) });
  console.log(bad.status, await bad.text());
  const batch = await fetch(`${pulse.url}/ingest/v1/batch`, { method: "POST", body: JSON.stringify({ messages: [
    { tenant_id: "acme", device_id: "d1", msg_type: "telemetry", provision_token: "tok-d1", metrics: { temp_c: 22 }, seq: 3 },
    { tenant_id: "acme", device_id: "d2", msg_type: "telemetry", provision_token: "tok-d1", metrics: { temp_c: 22 } },
  ] }) });
  console.log(batch.status, await batch.text());
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${pulse.mqttPort}`, { username: "acme/d1", password: "tok-d1", protocolVersion: 4, reconnectPeriod: 0 });
  const t0 = performance.now();
  await c.publishAsync("tenant/acme/device/d1/telemetry", JSON.stringify({ metrics: { temp_c: 23, door: true, mode: "cool" }, seq: 4 }), { qos: 1 });
  console.log("puback after", performance.now() - t0);
  await c.endAsync();
  await pulse.app.ingest.quarantine.flush();
  const rows = await withSystem(pulse.app.db, (tx) => tx.query("select count(*)::int as n from telemetry"));
  const st = await withSystem(pulse.app.db, (tx) => tx.query("select * from device_state"));
  const q = await withSystem(pulse.app.db, (tx) => tx.query("select reason, detail, payload from quarantine"));
  const cat = await withSystem(pulse.app.db, (tx) => tx.query("select name, kind from metric_catalog"));
  console.log(rows, st, q, cat);
  expect(rows[0]).toEqual({ n: 3 });
});
