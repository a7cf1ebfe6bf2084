// GET /api/v1/quarantine and /api/v1/quarantine/counts on both databases:
// real bad messages go in over HTTP ingest; alice and bob read acme's,
// newest first, filtered by reason, device and time, a page at a time, with
// tokens masked; carol reads only globex's and cannot ask for acme's; oscar
// the operator reads every tenant's and the messages for unknown tenants.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { registerDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { castClients, type Clients } from "../devices/fixtures.ts";

setDefaultTimeout(120_000);

interface Item {
  id: number;
  tenant_id: string | null;
  device_id: string | null;
  time: string;
  reason: string;
  transport: string;
  topic: string | null;
  detail: string | null;
  payload: string | null;
}

async function send(url: string, tenant: string, device: string, token: string | undefined, body: string): Promise<string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers["X-Provision-Token"] = token;
  const res = await fetch(`${url}/ingest/v1/tenant/${tenant}/device/${device}/telemetry`, { method: "POST", headers, body });
  return ((await res.json()) as { reason: string }).reason;
}

for (const kind of dbKinds()) {
  describe(`the quarantine API on ${kind}`, () => {
    let pulse: TestPulse;
    let c: Clients;
    let oscar: Agent;
    let before: string;

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      c = await castClients(pulse.app, await seedCast(pulse.app));
      const pump = await registerDevice(pulse.app, "acme", "pump-1");
      const gx = await registerDevice(pulse.app, "globex", "gx-1", { site: "globex-lab" });
      const url = pulse.url;
      expect(await send(url, "acme", "pump-1", "wrong", JSON.stringify({ version: "1", metrics: { temp_c: 1 } }))).toBe("TOKEN_INVALID");
      expect(await send(url, "acme", "pump-1", pump.token, "{not json")).toBe("INVALID_JSON");
      // A moment clearly between the first two messages and the rest.
      await Bun.sleep(50);
      before = new Date().toISOString();
      await Bun.sleep(50);
      // The token in the body is masked before it is stored.
      expect(await send(url, "acme", "pump-1", undefined, JSON.stringify({ version: "1", provision_token: "super-secret-token-value", metrics: {} }))).toBe("MISSING_METRICS");
      expect(await send(url, "acme", "ghost-9", "anything", JSON.stringify({ version: "1", metrics: { a: 1 } }))).toBe("UNREGISTERED_DEVICE");
      expect(await send(url, "globex", "gx-1", "wrong", JSON.stringify({ version: "1", metrics: { b: 1 } }))).toBe("TOKEN_INVALID");
      expect(await send(url, "no-such-tenant", "dev-1", "x", JSON.stringify({ version: "1", metrics: { c: 1 } }))).toMatch(/UNREGISTERED_DEVICE|TOKEN_INVALID|SUBSCRIPTION_SUSPENDED/);
      void gx;
      await pulse.app.ingest.quarantine.flush();
      oscar = await signedIn(pulse.url, "oscar", PASSWORDS.oscar);
    });
    afterAll(() => pulse?.stop());

    test("alice reads acme's refused messages newest first, with the reason, the device and the payload with its token masked", async () => {
      const res = await c.alice.get<{ items: Item[]; next_cursor: string | null }>("/api/v1/quarantine");
      expect(res.status).toBe(200);
      const items = res.body.items;
      expect(items.map((i) => [i.reason, i.device_id])).toEqual([
        ["UNREGISTERED_DEVICE", "ghost-9"],
        ["MISSING_METRICS", "pump-1"],
        ["INVALID_JSON", "pump-1"],
        ["TOKEN_INVALID", "pump-1"],
      ]);
      expect(items.every((i) => i.tenant_id === "acme" && i.transport === "http")).toBe(true);
      expect(items[0]!.topic).toBe("/ingest/v1/tenant/acme/device/ghost-9/telemetry");
      const masked = items.find((i) => i.reason === "MISSING_METRICS")!;
      expect(masked.payload).toContain('"provision_token":"****"');
      expect(JSON.stringify(res.body)).not.toContain("super-secret-token-value");
      expect(items[2]!.payload).toBe("{not json");
      // bob, a customer, reads them too.
      expect((await c.bob.get<{ items: Item[] }>("/api/v1/quarantine")).body.items.length).toBe(4);
    });

    test("filters by reason, device and time; pages by cursor without repeats; refuses unknown reasons", async () => {
      const reason = await c.alice.get<{ items: Item[] }>("/api/v1/quarantine?reason=TOKEN_INVALID");
      expect(reason.body.items.map((i) => i.reason)).toEqual(["TOKEN_INVALID"]);
      const device = await c.alice.get<{ items: Item[] }>("/api/v1/quarantine?device_id=pump-1");
      expect(device.body.items.map((i) => i.device_id)).toEqual(["pump-1", "pump-1", "pump-1"]);
      const since = await c.alice.get<{ items: Item[] }>(`/api/v1/quarantine?from=${encodeURIComponent(before)}`);
      expect(since.body.items.map((i) => i.reason)).toEqual(["UNREGISTERED_DEVICE", "MISSING_METRICS"]);
      const until = await c.alice.get<{ items: Item[] }>(`/api/v1/quarantine?to=${encodeURIComponent(before)}`);
      expect(until.body.items.map((i) => i.reason)).toEqual(["INVALID_JSON", "TOKEN_INVALID"]);

      const first = await c.alice.get<{ items: Item[]; next_cursor: string | null }>("/api/v1/quarantine?limit=3");
      expect(first.body.items.length).toBe(3);
      expect(first.body.next_cursor).toBeString();
      const second = await c.alice.get<{ items: Item[]; next_cursor: string | null }>(`/api/v1/quarantine?limit=3&cursor=${first.body.next_cursor}`);
      expect(second.body.items.map((i) => i.reason)).toEqual(["TOKEN_INVALID"]);
      expect(second.body.next_cursor).toBeNull();

      const bad = await c.alice.get("/api/v1/quarantine?reason=NOT_A_REASON");
      expect(bad.status).toBe(400);
      expect((await c.alice.get("/api/v1/quarantine?cursor=garbage")).status).toBe(400);
      expect((await c.alice.get(`/api/v1/quarantine?from=${encodeURIComponent(before)}&to=${encodeURIComponent(before)}`)).status).toBe(400);
    });

    test("counts per reason: each tenant its own; carol cannot ask for acme's", async () => {
      const acme = await c.alice.get<{ items: Array<{ tenant_id: string; reason: string; count: number; last_at: string }> }>("/api/v1/quarantine/counts");
      expect(acme.status).toBe(200);
      expect(Object.fromEntries(acme.body.items.map((r) => [r.reason, r.count]))).toEqual({ INVALID_JSON: 1, MISSING_METRICS: 1, TOKEN_INVALID: 1, UNREGISTERED_DEVICE: 1 });
      expect(acme.body.items.every((r) => r.tenant_id === "acme" && !Number.isNaN(Date.parse(r.last_at)))).toBe(true);

      const globex = await c.carol.get<{ items: Array<{ tenant_id: string; reason: string; count: number; last_at: string }> }>("/api/v1/quarantine/counts");
      expect(globex.body.items).toEqual([{ tenant_id: "globex", reason: "TOKEN_INVALID", count: 1, last_at: expect.any(String) }]);
      const list = await c.carol.get<{ items: Item[] }>("/api/v1/quarantine");
      expect(list.body.items.map((i) => [i.tenant_id, i.device_id])).toEqual([["globex", "gx-1"]]);
      expect(JSON.stringify(list.body)).not.toContain("pump-1");
      expect((await c.carol.get("/api/v1/quarantine?tenant_id=acme")).status).toBe(403);
      expect((await c.carol.get("/api/v1/quarantine/counts?tenant_id=acme")).status).toBe(403);
      expect((await c.carol.get("/api/v1/quarantine?device_id=pump-1")).body.items).toEqual([]);
    });

    test("oscar the operator reads every tenant's, including messages for tenants that do not exist; tenant_id narrows", async () => {
      const all = (await (await oscar.fetch("/api/v1/quarantine")).json()) as { items: Item[] };
      const tenants = new Set(all.items.map((i) => i.tenant_id));
      expect(tenants).toEqual(new Set(["acme", "globex", null]));
      const unknown = all.items.find((i) => i.tenant_id === null)!;
      expect(unknown.topic).toBe("/ingest/v1/tenant/no-such-tenant/device/dev-1/telemetry");
      const gx = (await (await oscar.fetch("/api/v1/quarantine?tenant_id=globex")).json()) as { items: Item[] };
      expect(gx.items.map((i) => i.tenant_id)).toEqual(["globex"]);
      const nowhere = (await (await oscar.fetch("/api/v1/quarantine?tenant_id=")).json()) as { items: Item[] };
      expect(nowhere.items.map((i) => i.tenant_id)).toEqual([null]);
      const counts = (await (await oscar.fetch("/api/v1/quarantine/counts")).json()) as { items: Array<{ tenant_id: string }> };
      expect(new Set(counts.items.map((r) => r.tenant_id))).toEqual(new Set(["acme", "globex"]));
    });

    test("without credentials the API answers 401", async () => {
      expect((await fetch(`${pulse.url}/api/v1/quarantine`)).status).toBe(401);
      expect((await fetch(`${pulse.url}/api/v1/quarantine/counts`)).status).toBe(401);
    });
  });
}
