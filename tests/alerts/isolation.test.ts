// Tenant isolation of alerts, on both databases: acme's pump and globex's fan
// both alert; carol (globex) never sees acme's alert — not in the inbox, not
// by id (404), not in the summary, not in her live stream — and alice never
// sees globex's. Neither can act on the other's.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { postMessage, registerDevice, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { alertsOf, getJson, send } from "./fixtures.ts";

// Suites boot whole servers on two shared cores; bun applies the preload's timeout to the first file only, and hooks need it too.
setDefaultTimeout(60_000);

type LiveEvent = { event: string; data: Record<string, unknown> };

/** A live stream being read: `until` reads on until the events so far satisfy `done` (or 10 s pass). */
function liveReader(res: Response) {
  const reader = res.body!.getReader();
  const events: LiveEvent[] = [];
  let buf = "";
  return {
    events,
    async until(done: (events: LiveEvent[]) => boolean): Promise<LiveEvent[]> {
      const deadline = Date.now() + 10_000;
      while (!done(events) && Date.now() < deadline) {
        const chunk = await Promise.race([reader.read(), Bun.sleep(deadline - Date.now()).then(() => undefined)]);
        if (!chunk || chunk.done) break;
        buf += new TextDecoder().decode(chunk.value);
        const blocks = buf.split("\n\n");
        buf = blocks.pop()!;
        for (const block of blocks) {
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
      return events;
    },
    close: () => reader.cancel().catch(() => {}),
  };
}

for (const kind of dbKinds()) {
  describe(`alert isolation on ${kind}`, () => {
    let pulse: TestPulse;
    let alice: Agent, carol: Agent;
    let pump: TestDevice, fan: TestDevice;
    let acmeAlert: string;
    let globexAlert: string;
    const trip = async (d: TestDevice, metrics: Record<string, unknown>) => {
      expect((await postMessage(pulse, d, { metrics })).status).toBe(202);
      await pulse.app.alerts.engine.idle();
    };

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      await seedCast(pulse.app);
      [alice, carol] = await Promise.all([signedIn(pulse.url, "alice", PASSWORDS.alice), signedIn(pulse.url, "carol", PASSWORDS.carol)]);
      pump = await registerDevice(pulse.app, "acme", "pump-7", { site: "plant" });
      fan = await registerDevice(pulse.app, "globex", "fan-2", { site: "hq" });
      const deps = { db: pulse.app.db, clock: pulse.app.clock };
      // The same rule in both tenants: only the tenant decides who sees what.
      for (const tenantId of ["acme", "globex"]) await createAlertRule(deps, { ...platformAdmin, tenantId }, { name: "Too hot", metricName: "temp_c", operator: "GT", threshold: 80, severity: "CRITICAL" });
    });
    afterAll(() => pulse?.stop());

    test("live streams carry alert changes to their own tenant only", async () => {
      const [aliceRes, carolRes] = await Promise.all([alice.fetch("/api/v1/live"), carol.fetch("/api/v1/live")]);
      expect(aliceRes.headers.get("content-type")).toContain("text/event-stream");
      const [aliceLive, carolLive] = [liveReader(aliceRes), liveReader(carolRes)];
      const has = (type: string) => (events: LiveEvent[]) => events.some((e) => e.event === type);
      try {
        // Both streams are subscribed once they said they are ready.
        expect((await aliceLive.until(has("ready")))[0]).toEqual({ event: "ready", data: { tenant_id: "acme" } });
        expect((await carolLive.until(has("ready")))[0]).toEqual({ event: "ready", data: { tenant_id: "globex" } });
        await trip(pump, { temp_c: 95 });
        await trip(fan, { temp_c: 91 });
        // carol reads until her own (globex) alert arrives; acme's, sent first, would have come before it.
        await Promise.all([aliceLive.until(has("alerts.changed")), carolLive.until(has("alerts.changed"))]);
      } finally {
        await Promise.all([aliceLive.close(), carolLive.close()]);
      }
      acmeAlert = (await alertsOf(pulse.app, "acme", "pump-7"))[0]!.id;
      globexAlert = (await alertsOf(pulse.app, "globex", "fan-2"))[0]!.id;
      const aliceEvents = aliceLive.events.filter((e) => e.event === "alerts.changed");
      const carolEvents = carolLive.events.filter((e) => e.event === "alerts.changed");
      expect(aliceEvents.map((e) => e.data)).toEqual([{ tenant_id: "acme", alert_id: acmeAlert, kind: "triggered", severity: "CRITICAL" }]);
      expect(carolEvents.map((e) => e.data)).toEqual([{ tenant_id: "globex", alert_id: globexAlert, kind: "triggered", severity: "CRITICAL" }]);
    });

    test("carol's inbox, summary and lookups hold only globex; acme's alert is a 404", async () => {
      const list = await getJson<{ items: Array<{ id: string; device_id: string }> }>(carol, "/api/v1/alerts?status=ALL");
      expect(list.items.map((a) => [a.id, a.device_id])).toEqual([[globexAlert, "fan-2"]]);
      expect((await getJson<{ items: unknown[] }>(carol, "/api/v1/alerts?device_id=pump-7&status=ALL")).items).toEqual([]);
      expect(await getJson(carol, "/api/v1/alerts/summary")).toEqual({ CRITICAL: { open: 1, acknowledged: 0 } });
      expect((await carol.fetch(`/api/v1/alerts/${acmeAlert}`)).status).toBe(404);
      expect((await carol.fetch(`/api/v1/alerts/${globexAlert}`)).status).toBe(200);
      // Nor can she act on it, alone or in a bulk request with her own.
      for (const action of ["acknowledge", "close", "silence"]) expect((await send(carol, "POST", `/api/v1/alerts/${acmeAlert}/${action}`, action === "silence" ? { minutes: 10 } : {})).status).toBe(404);
      expect((await send(carol, "POST", "/api/v1/alerts/bulk", { ids: [globexAlert, acmeAlert], action: "close" })).status).toBe(404);
      expect((await alertsOf(pulse.app, "acme", "pump-7")).map((a) => a.status)).toEqual(["OPEN"]);
      expect((await alertsOf(pulse.app, "globex", "fan-2")).map((a) => a.status)).toEqual(["OPEN"]); // the bulk request was all or nothing
    });

    test("and alice, the other way round, sees only acme", async () => {
      const list = await getJson<{ items: Array<{ id: string }> }>(alice, "/api/v1/alerts?status=ALL");
      expect(list.items.map((a) => a.id)).toEqual([acmeAlert]);
      expect(await getJson(alice, "/api/v1/alerts/summary")).toEqual({ CRITICAL: { open: 1, acknowledged: 0 } });
      expect((await alice.fetch(`/api/v1/alerts/${globexAlert}`)).status).toBe(404);
      expect((await send(alice, "POST", `/api/v1/alerts/${globexAlert}/acknowledge`)).status).toBe(404);
      // Her own, acknowledged, changes only her summary.
      expect((await send(alice, "POST", `/api/v1/alerts/${acmeAlert}/acknowledge`)).status).toBe(200);
      expect(await getJson(alice, "/api/v1/alerts/summary")).toEqual({ CRITICAL: { open: 0, acknowledged: 1 } });
      expect(await getJson(carol, "/api/v1/alerts/summary")).toEqual({ CRITICAL: { open: 1, acknowledged: 0 } });
    });
  });
}
