// Alert rules as acme's people meet them, on both databases: alice writes
// rules and every refusal names the field she got wrong; a rule on a metric no
// device has sent yet is allowed but flagged; bob (customer) reads them but
// may not change them; carol (globex) cannot see them at all; and a new or
// changed rule judges the very next message, without a restart.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { RULES_CHANNEL } from "../../src/alerts/engine.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { postMessage, registerDevice, type TestDevice } from "../helpers/devices.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { alertsOf, getJson, heard, send } from "./fixtures.ts";

// Suites boot whole servers on two shared cores; bun applies the preload's timeout to the first file only, and hooks need it too.
setDefaultTimeout(60_000);

interface RuleOut {
  id: string;
  name: string;
  metric_name: string;
  operator: string;
  threshold: unknown;
  clear_threshold: number | null;
  duration_seconds: number;
  severity: string;
  severity_level: number;
  scope: Record<string, unknown>;
  enabled: boolean;
  auto_close: boolean;
  reopen_window_seconds: number;
  metric_unseen: boolean;
}

const hot = { name: "Pump too hot", metric_name: "temp_c", operator: "GT", threshold: 80, severity: "HIGH" };

for (const kind of dbKinds()) {
  describe(`alert rules on ${kind}`, () => {
    let pulse: TestPulse;
    let alice: Agent, bob: Agent, carol: Agent;
    let pump: TestDevice;
    let ruleId: string;

    const telemetry = async (metrics: Record<string, unknown>) => {
      const res = await postMessage(pulse, pump, { metrics });
      expect(res.status).toBe(202);
      await pulse.app.alerts.engine.idle();
    };
    /** Create, change or delete a rule and wait until this node's engine has heard of it. */
    const ruleChange = (a: Agent, method: string, path: string, body?: unknown) => heard(pulse.app, RULES_CHANNEL, () => send(a, method, path, body));

    beforeAll(async () => {
      pulse = await startPulse({ db: kind });
      await seedCast(pulse.app);
      [alice, bob, carol] = await Promise.all([signedIn(pulse.url, "alice", PASSWORDS.alice), signedIn(pulse.url, "bob", PASSWORDS.bob), signedIn(pulse.url, "carol", PASSWORDS.carol)]);
      pump = await registerDevice(pulse.app, "acme", "pump-7", { site: "plant" });
      await telemetry({ temp_c: 40 }); // the catalog now knows temp_c
    });
    afterAll(() => pulse?.stop());

    test("alice creates a threshold rule; the answer shows its defaults and severity level", async () => {
      const res = await send(alice, "POST", "/api/v1/alert-rules", { ...hot, clear_threshold: 75, duration_seconds: 30, scope: { sites: ["plant"] } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: "Pump too hot",
        rule_type: "THRESHOLD",
        metric_name: "temp_c",
        operator: "GT",
        threshold: 80,
        clear_threshold: 75,
        duration_seconds: 30,
        severity: "HIGH",
        severity_level: 2,
        scope: { sites: ["plant"] },
        enabled: true,
        auto_close: true,
        reopen_window_seconds: 3600,
        metric_unseen: false,
      });
      ruleId = res.body.id;
      const valve = await send(alice, "POST", "/api/v1/alert-rules", { name: "Valve stuck open", metric_name: "valve_open", operator: "EQ", threshold: true, severity: "CRITICAL", auto_close: false });
      expect(valve.status).toBe(201);
      expect(valve.body).toMatchObject({ operator: "EQ", threshold: true, severity_level: 1, auto_close: false, scope: {} });
      const mode = await send(alice, "POST", "/api/v1/alert-rules", { name: "Pump faulted", metric_name: "mode", operator: "NEQ", threshold: "running", severity: "INFO" });
      expect(mode.body).toMatchObject({ threshold: "running", severity_level: 5 });
    });

    test("a rule on a metric no device has sent is allowed, flagged until one does", async () => {
      const res = await send(alice, "POST", "/api/v1/alert-rules", { name: "Flow low", metric_name: "flow_lpm", operator: "LT", threshold: 5, severity: "MEDIUM" });
      expect(res.status).toBe(201);
      expect(res.body.metric_unseen).toBe(true);
      const list = await getJson<{ items: RuleOut[] }>(alice, "/api/v1/alert-rules");
      expect(Object.fromEntries(list.items.map((r) => [r.metric_name, r.metric_unseen]))).toMatchObject({ temp_c: false, flow_lpm: true });
      await telemetry({ flow_lpm: 12 });
      expect((await getJson<RuleOut>(alice, `/api/v1/alert-rules/${res.body.id}`)).metric_unseen).toBe(false);
    });

    test("an invalid rule is refused with a 400 that names the field", async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...hot, operator: "ABOVE" }, "operator"],
        [{ ...hot, operator: undefined }, "operator"],
        [{ ...hot, threshold: "hot" }, "threshold"],
        [{ ...hot, operator: "LTE", threshold: true }, "threshold"],
        [{ ...hot, duration_seconds: -5 }, "duration_seconds"],
        [{ ...hot, duration_seconds: 1.5 }, "duration_seconds"],
        [{ ...hot, clear_threshold: 90 }, "clear_threshold"], // GT 80: it must clear at or below 80
        [{ ...hot, operator: "LT", threshold: 10, clear_threshold: 5 }, "clear_threshold"], // LT 10: at or above 10
        [{ ...hot, operator: "EQ", threshold: "fault", clear_threshold: 1 }, "clear_threshold"],
        [{ ...hot, scope: { zones: ["north"] } }, "scope.zones"],
        [{ ...hot, scope: { sites: "plant" } }, "scope.sites"],
        [{ ...hot, scope: { tags: { line: 7 } } }, "scope.tags"],
        [{ ...hot, severity: "URGENT" }, "severity"],
        [{ ...hot, metric_name: "has space" }, "metric_name"],
        [{ ...hot, name: "" }, "name"],
        [{ ...hot, rule_type: "NO_HEARTBEAT" }, "rule_type"],
        [{ ...hot, reopen_window_seconds: -1 }, "reopen_window_seconds"],
      ];
      for (const [body, field] of cases) {
        const res = await send(alice, "POST", "/api/v1/alert-rules", body);
        expect({ body, status: res.status, field: res.body?.error?.field }).toEqual({ body, status: 400, field });
        expect(res.body.error.message).toContain(field.split(".")[0]!);
      }
      // The same checks guard changes.
      const patch = await send(alice, "PATCH", `/api/v1/alert-rules/${ruleId}`, { clear_threshold: 85 });
      expect([patch.status, patch.body.error.field]).toEqual([400, "clear_threshold"]);
      const rules = await getJson<{ items: RuleOut[] }>(alice, "/api/v1/alert-rules");
      expect(rules.items.map((r) => r.name).sort()).toEqual(["Flow low", "Pump faulted", "Pump too hot", "Valve stuck open"]);
    });

    test("bob, a customer, lists and reads rules but may not create, change or delete one (403)", async () => {
      const list = await getJson<{ items: RuleOut[] }>(bob, "/api/v1/alert-rules");
      expect(list.items.length).toBe(4);
      expect((await getJson<RuleOut>(bob, `/api/v1/alert-rules/${ruleId}`)).name).toBe("Pump too hot");
      expect((await send(bob, "POST", "/api/v1/alert-rules", hot)).status).toBe(403);
      expect((await send(bob, "PATCH", `/api/v1/alert-rules/${ruleId}`, { threshold: 200 })).status).toBe(403);
      expect((await send(bob, "DELETE", `/api/v1/alert-rules/${ruleId}`)).status).toBe(403);
      expect((await getJson<RuleOut>(alice, `/api/v1/alert-rules/${ruleId}`)).threshold).toBe(80);
    });

    test("carol (globex) sees none of acme's rules and gets 404 for each by id", async () => {
      expect((await getJson<{ items: RuleOut[] }>(carol, "/api/v1/alert-rules")).items).toEqual([]);
      expect((await carol.fetch(`/api/v1/alert-rules/${ruleId}`)).status).toBe(404);
      expect((await send(carol, "PATCH", `/api/v1/alert-rules/${ruleId}`, { threshold: 1 })).status).toBe(404);
      expect((await send(carol, "DELETE", `/api/v1/alert-rules/${ruleId}`)).status).toBe(404);
      // Her own rule stays hers.
      const own = await send(carol, "POST", "/api/v1/alert-rules", { ...hot, name: "Globex heat" });
      expect(own.status).toBe(201);
      expect((await getJson<{ items: RuleOut[] }>(alice, "/api/v1/alert-rules")).items.map((r) => r.name)).not.toContain("Globex heat");
      expect((await alice.fetch(`/api/v1/alert-rules/${own.body.id}`)).status).toBe(404);
    });

    test("a rule created, changed or deleted judges the very next message, without a restart", async () => {
      // No rule watches pressure yet: 9 bar passes unnoticed.
      await telemetry({ pressure_bar: 9 });
      expect(await alertsOf(pulse.app, "acme", "pump-7")).toEqual([]);

      const created = await ruleChange(alice, "POST", "/api/v1/alert-rules", { name: "Overpressure", metric_name: "pressure_bar", operator: "GTE", threshold: 8, severity: "CRITICAL" });
      expect(created.status).toBe(201);
      await telemetry({ pressure_bar: 9 });
      const [alert] = await alertsOf(pulse.app, "acme", "pump-7");
      expect(alert).toMatchObject({ rule_id: created.body.id, status: "OPEN", severity: "CRITICAL", last_value: 9, trigger_count: 1 });

      // Raised above 9.5, the rule clears on the next 9 and does not fire again on it.
      expect((await ruleChange(alice, "PATCH", `/api/v1/alert-rules/${created.body.id}`, { threshold: 9.5 })).status).toBe(200);
      await telemetry({ pressure_bar: 9 });
      expect((await alertsOf(pulse.app, "acme", "pump-7")).map((a) => [a.status, a.trigger_count])).toEqual([["CLOSED", 1]]);
      await telemetry({ pressure_bar: 9.2 });
      expect((await alertsOf(pulse.app, "acme", "pump-7")).map((a) => a.status)).toEqual(["CLOSED"]);

      // Disabled, it ignores 12 bar; deleted, too.
      expect((await ruleChange(alice, "PATCH", `/api/v1/alert-rules/${created.body.id}`, { enabled: false })).body.enabled).toBe(false);
      await telemetry({ pressure_bar: 12 });
      expect((await alertsOf(pulse.app, "acme", "pump-7")).map((a) => a.status)).toEqual(["CLOSED"]);
      expect((await ruleChange(alice, "DELETE", `/api/v1/alert-rules/${created.body.id}`)).status).toBe(204);
      expect((await alice.fetch(`/api/v1/alert-rules/${created.body.id}`)).status).toBe(404);
      await telemetry({ pressure_bar: 13 });
      expect((await alertsOf(pulse.app, "acme", "pump-7")).length).toBe(1);
    });
  });
}
