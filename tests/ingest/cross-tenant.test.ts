// A globex token never authorizes an acme device — not over HTTP (header,
// Bearer, body, batch), not in an MQTT envelope, not as MQTT credentials —
// even when both tenants have a device of the same id.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { postMessage, quarantineRows, registerDevice, telemetryRows, viaSocket, type Requester, type TestDevice } from "../helpers/devices.ts";
import { connectDevice, connectMqtt, connectRefusal, publishQos1 } from "../helpers/mqtt.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

// Suites boot whole servers (the first PGlite start runs initdb); bun test may not apply the preload's timeout to every file's hooks.
setDefaultTimeout(60_000);

let pulse: TestPulse;
let http: Requester;
let acme: TestDevice;
let globex: TestDevice;

beforeAll(async () => {
  pulse = await startPulse({ db: dbKinds()[0]! });
  http = viaSocket(pulse);
  await seedCast(pulse.app);
  // The same device id in both tenants, each with its own token.
  acme = await registerDevice(pulse.app, "acme", "pump-1");
  globex = await registerDevice(pulse.app, "globex", "pump-1", { site: "hq" });
});
afterAll(() => pulse.stop());

const body = (extra: Record<string, unknown> = {}) => ({ metrics: { flow: 1 }, ...extra });

test("HTTP: globex's token for acme's device is TOKEN_INVALID, however it is presented", async () => {
  const target = { tenant: "acme", device: "pump-1" };
  const answers = [
    await postMessage(http, { ...target, token: globex.token }, body()),
    await postMessage(http, target, body(), "telemetry", { Authorization: `Bearer ${globex.token}` }),
    await postMessage(http, target, body({ provision_token: globex.token })),
  ];
  for (const res of answers) {
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe("TOKEN_INVALID");
  }
  const batch = await http.request("/ingest/v1/batch", {
    method: "POST",
    body: JSON.stringify({ messages: [{ tenant_id: "acme", device_id: "pump-1", msg_type: "telemetry", provision_token: globex.token, metrics: { flow: 1 } }] }),
  });
  expect(await batch.json()).toMatchObject({ accepted: 0, rejected: 1, results: [{ index: 0, ok: false, reason: "TOKEN_INVALID" }] });
  expect(await telemetryRows(pulse.app, "acme", "pump-1")).toEqual([]);

  // Each token works for its own device, and lands in its own tenant only.
  expect((await postMessage(http, acme, body({ seq: 1 }))).status).toBe(202);
  expect((await postMessage(http, globex, { metrics: { flow: 2 } })).status).toBe(202);
  expect((await telemetryRows(pulse.app, "acme", "pump-1")).map((r) => r.metrics.flow)).toEqual([1]);
  expect((await telemetryRows(pulse.app, "globex", "pump-1")).map((r) => r.metrics.flow)).toEqual([2]);
});

test("HTTP: a body naming acme on globex's path is INVALID_TOPIC, not a way around the path", async () => {
  const res = await postMessage(http, globex, body({ tenant_id: "acme" }));
  expect(res.status).toBe(400);
  expect(((await res.json()) as { reason: string }).reason).toBe("INVALID_TOPIC");
});

test("MQTT envelope: globex's token in a message on acme's topic is refused and counted for acme", async () => {
  const c = await connectMqtt(`mqtt://127.0.0.1:${pulse.mqttPort}`);
  try {
    const before = (await quarantineRows(pulse.app, { tenant: "acme", device: "pump-1" })).length;
    expect(await publishQos1(c, "tenant/acme/device/pump-1/telemetry", JSON.stringify(body({ provision_token: globex.token, seq: 50 })), 500)).toBe("no-ack");
    expect(await publishQos1(c, "tenant/globex/device/pump-1/telemetry", JSON.stringify(body({ provision_token: globex.token, tenant_id: "acme", seq: 51 })), 500)).toBe("no-ack");
    const rows = (await quarantineRows(pulse.app)).slice(-2);
    expect(rows.map((r) => [r.tenant_id, r.device_id, r.reason])).toEqual([
      ["acme", "pump-1", "TOKEN_INVALID"],
      ["globex", "pump-1", "INVALID_TOPIC"],
    ]);
    expect((await quarantineRows(pulse.app, { tenant: "acme", device: "pump-1" })).length).toBe(before + 1);
    // The same connection, with the right token, publishes for either tenant's device.
    expect(await publishQos1(c, "tenant/acme/device/pump-1/telemetry", JSON.stringify(body({ provision_token: acme.token, seq: 52 })), 10_000)).toBe("acked");
    expect(await telemetryRows(pulse.app, "acme", "pump-1")).toHaveLength(2);
    expect(await telemetryRows(pulse.app, "globex", "pump-1")).toHaveLength(1);
  } finally {
    await c.endAsync(true);
  }
});

test("MQTT credentials: acme's device id with globex's token is refused at CONNECT; globex's connection cannot publish for acme", async () => {
  const url = `mqtt://127.0.0.1:${pulse.mqttPort}`;
  expect(await connectRefusal(url, { username: "acme/pump-1", password: globex.token })).toBe(4);
  const c = await connectDevice(pulse.mqttPort, globex);
  try {
    expect(await publishQos1(c, "tenant/acme/device/pump-1/telemetry", JSON.stringify(body({ seq: 60 })), 500)).toBe("no-ack");
    expect(await publishQos1(c, "tenant/acme/device/pump-1/telemetry", JSON.stringify(body({ seq: 61, provision_token: acme.token })), 500)).toBe("no-ack");
    expect(c.connected).toBe(true);
    expect((await telemetryRows(pulse.app, "acme", "pump-1")).map((r) => r.metrics.flow)).toHaveLength(2);
    // Counted for the tenant that sent them.
    expect((await quarantineRows(pulse.app)).slice(-2).map((r) => [r.tenant_id, r.device_id, r.reason])).toEqual([
      ["globex", "pump-1", "INVALID_TOPIC"],
      ["globex", "pump-1", "INVALID_TOPIC"],
    ]);
  } finally {
    await c.endAsync(true);
  }
});
