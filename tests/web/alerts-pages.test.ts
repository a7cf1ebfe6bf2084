// The alerting pages and the fleet overview over plain HTTP, as a browser
// without JavaScript sees them: alerts raised by real readings show in the
// inbox with their device and site, filters narrow it, forms acknowledge,
// close and silence (one, or several at once) and redirect with a flash, the
// rules form refuses a clear threshold on the wrong side next to the field
// and previews a rule on seeded history, maintenance windows say when they
// are active, the overview counts what the database holds — and carol at
// globex never sees acme's alerts, oscar reads but cannot act. The pure
// helpers behind the pages are checked directly.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withSystem } from "../../src/db/scope.ts";
import { createIngestRate } from "../../src/fleet/rate.ts";
import { scriptJson } from "../../web/components/timeseries.ts";
import { ruleCondition, ruleInputFrom } from "../../web/pages/alert-rules.ts";
import { parseInbox } from "../../web/pages/alerts.ts";
import { silenceChoice } from "../../web/pages/alerts-detail.ts";
import { formatRate } from "../../web/pages/fleet.ts";
import { nextOccurrence, windowInputFrom } from "../../web/pages/maintenance.ts";
import { flashOf, openAlertOf, postForm, startAlertStage, type AlertStage } from "../e2e/alerts-fixtures.ts";

const HOUR = 3_600_000;
let stage: AlertStage;

beforeAll(async () => {
  stage = await startAlertStage();
  await stage.device("acme", "boiler-1", "plant", { name: "Boiler 1", siteName: "Plant North" });
  await stage.device("acme", "pump-7", "yard", { siteName: "Yard" });
  await stage.device("acme", "fan-3", "plant");
  await stage.device("globex", "press-9", "gx-hall");
  await stage.rule("acme", { name: "Boiler overheating", metricName: "temp_c", operator: "GT", threshold: 90, clearThreshold: 80, severity: "CRITICAL", scope: { devices: ["boiler-1"] } });
  await stage.rule("acme", { name: "Pressure high", metricName: "pressure_bar", operator: "GT", threshold: 5, severity: "HIGH" });
  await stage.rule("globex", { name: "Press hot", metricName: "temp_c", operator: "GT", threshold: 50, severity: "HIGH" });
  await stage.send("boiler-1", { temp_c: 95 });
  await stage.send("pump-7", { pressure_bar: 6.5 });
  await stage.send("fan-3", { pressure_bar: 7 });
  await stage.send("press-9", { temp_c: 70 });
}, 90_000);
afterAll(() => stage?.stop(), 30_000);

const page = async (who: "alice" | "bob" | "carol" | "oscar", path: string, status = 200) => {
  const res = await (await stage.agent(who)).fetch(path);
  expect(res.status).toBe(status);
  return res.text();
};

describe("the alert inbox", () => {
  test("shows a fresh CRITICAL alert with its summary, device, site and counts per severity", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    expect(boiler.severity).toBe("CRITICAL");
    const html = await page("alice", "/alerts");
    expect(html).toContain(boiler.summary);
    expect(html).toContain('href="/devices/boiler-1"');
    expect(html).toContain("Boiler 1");
    expect(html).toContain("Plant North");
    expect(html).toMatch(/data-tab="CRITICAL"[^>]*>[\s\S]*?<span class="tab-count" data-count="true">1<\/span>/);
    expect(html).toMatch(/data-tab="HIGH"[^>]*>[\s\S]*?<span class="tab-count" data-count="true">2<\/span>/);
    expect(html).toMatch(/data-tab="ALL"[^>]*>[\s\S]*?<span class="tab-count" data-count="true">3<\/span>/);
    // Customers act: checkboxes, bulk buttons, one-click acknowledge.
    expect(html).toContain('name="ids"');
    expect(html).toContain('value="acknowledge"');
    expect(html).toContain(`value="${boiler.id}:acknowledge"`);
  });

  test("filters live in the URL: severity tab, device, site, status", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    const pump = await openAlertOf(stage, "pump-7");
    let html = await page("alice", "/alerts?sev=HIGH");
    expect(html).not.toContain(boiler.summary);
    expect(html).toContain(pump.summary);
    html = await page("alice", "/alerts?device=pump-7");
    expect(html).toContain(pump.summary);
    expect(html).not.toContain(boiler.summary);
    html = await page("alice", "/alerts?site=plant&sev=HIGH");
    expect(html).not.toContain(pump.summary);
    expect(html).toContain("fan-3");
    html = await page("alice", "/alerts?status=closed");
    expect(html).toContain("No alerts match these filters");
    // Tabs keep the other filters.
    html = await page("alice", "/alerts?site=plant");
    expect(html).toContain('href="/alerts?site=plant&amp;sev=CRITICAL"');
  });

  test("a form without the session's CSRF token is refused and changes nothing", async () => {
    const pump = await openAlertOf(stage, "pump-7");
    const res = await postForm(await stage.agent("bob"), "/alerts/bulk", { only: `${pump.id}:acknowledge`, back: "/alerts" }, { csrf: false });
    expect(res.status).toBe(403);
    expect((await openAlertOf(stage, "pump-7")).status).toBe("OPEN");
  });

  test("one click acknowledges from the list; the detail page's timeline says who", async () => {
    const pump = await openAlertOf(stage, "pump-7");
    const res = await postForm(await stage.agent("bob"), "/alerts/bulk", { only: `${pump.id}:acknowledge`, back: "/alerts?sev=HIGH" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/alerts?sev=HIGH");
    expect(flashOf(res)).toEqual({ kind: "ok", text: "Acknowledged 1 alert: you are on it." });
    expect((await openAlertOf(stage, "pump-7")).status).toBe("ACKNOWLEDGED");
    const html = await page("bob", `/alerts/${pump.id}`);
    expect(html).toContain("Acknowledged by bob");
    expect(html).toMatch(/<span class="owner">by <strong>bob<\/strong>/);
  });

  test("the detail page of a threshold alert carries its chart data and the rule's thresholds", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    const html = await page("alice", `/alerts/${boiler.id}`);
    const m = /<script type="application\/json" data-chart="alert-chart-[^"]+">([\s\S]*?)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    const data = JSON.parse(m![1]!) as { avg: number[]; lines: Array<{ value: number }>; marks: unknown[] };
    expect(data.avg).toContain(95);
    expect(data.lines.map((l) => l.value)).toEqual([90, 80]);
    expect(data.marks.length).toBe(1);
    // The fallback without script: a sparkline.
    expect(html).toContain('class="ts-fallback"');
  });

  test("close with a reason, from the detail page", async () => {
    const fan = await openAlertOf(stage, "fan-3");
    const alice = await stage.agent("alice");
    const res = await postForm(alice, `/alerts/${fan.id}/close`, { reason: "replaced the seal" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/alerts/${fan.id}`);
    const html = await page("alice", `/alerts/${fan.id}`);
    expect(html).toContain("Closed by alice");
    expect(html).toContain("replaced the seal");
    expect(html).toContain("Closed alerts need nothing more");
  });

  test("silence until tomorrow 08:00 in the tenant's zone; a time in the past is refused", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    const alice = await stage.agent("alice");
    let res = await postForm(alice, `/alerts/${boiler.id}/silence`, { silence: "tomorrow" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Silenced until tomorrow 08:00: no notifications until then.");
    const [row] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ silenced_until: Date }>("select silenced_until from alerts where id = $1", [boiler.id]));
    const until = new Date(row!.silenced_until);
    expect(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(until)).toBe("08:00");
    expect(until.getTime() - Date.now()).toBeLessThan(33 * HOUR);
    expect(await page("alice", "/alerts")).toContain('data-marker="silenced"');

    res = await postForm(alice, `/alerts/${boiler.id}/silence`, { silence: "custom", until: "2001-01-01T10:00" });
    expect(res.status).toBe(303);
    expect(flashOf(res)).toEqual({ kind: "error", text: "Pick a time in the future for the silence to end." });
    res = await postForm(alice, `/alerts/${boiler.id}/unsilence`, {});
    expect(flashOf(res)?.text).toContain("Silence lifted");
  });

  test("bulk close of two alerts at once", async () => {
    await stage.device("acme", "valve-5", "yard");
    await stage.send("valve-5", { pressure_bar: 8 });
    const fan = await openAlertOf(stage, "valve-5");
    const pump = await openAlertOf(stage, "pump-7");
    const res = await postForm(await stage.agent("bob"), "/alerts/bulk", { ids: [fan.id, pump.id], action: "close", reason: "shift change", back: "/alerts" });
    expect(flashOf(res)).toEqual({ kind: "ok", text: "Closed 2 alerts." });
    const closed = await stage.count("select count(*) as n from alerts where id = any($1::uuid[]) and status = 'CLOSED' and close_reason = 'shift change'", [[fan.id, pump.id]]);
    expect(closed).toBe(2);
    // Nothing ticked: said, nothing done.
    const none = await postForm(await stage.agent("bob"), "/alerts/bulk", { action: "close", back: "/alerts" });
    expect(flashOf(none)).toEqual({ kind: "error", text: "Select at least one alert first." });
  });

  test("oscar, working in no tenant, sees every tenant's active alerts but no way to act; acting is refused", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    const press = await openAlertOf(stage, "press-9");
    const html = await page("oscar", "/alerts");
    expect(html).toContain(boiler.summary);
    expect(html).toContain(press.summary);
    expect(html).toContain("Acme Corp");
    expect(html).not.toContain('name="ids"');
    const res = await postForm(await stage.agent("oscar"), "/alerts/bulk", { only: `${boiler.id}:acknowledge`, back: "/alerts" });
    expect(res.status).toBe(403);
  });

  test("carol at globex never sees acme's alerts, on any page", async () => {
    const boiler = await openAlertOf(stage, "boiler-1");
    const press = await openAlertOf(stage, "press-9");
    for (const path of ["/alerts", "/alerts?status=all", "/"]) {
      const html = await page("carol", path);
      expect(html).not.toContain(boiler.summary);
      expect(html).not.toContain("boiler-1");
    }
    expect(await page("carol", "/alerts")).toContain(press.summary);
    await page("carol", `/alerts/${boiler.id}`, 404);
    const res = await postForm(await stage.agent("carol"), `/alerts/${boiler.id}/acknowledge`, {});
    expect(flashOf(res)?.kind).toBe("error");
    expect((await openAlertOf(stage, "boiler-1")).status).toBe("OPEN");
  });
});

describe("the inbox, more", () => {
  test("with nothing active it says everything is quiet and points at the rules", async () => {
    const press = await openAlertOf(stage, "press-9");
    const res = await postForm(await stage.agent("carol"), "/alerts/bulk", { only: `${press.id}:close`, back: "/alerts" });
    expect(flashOf(res)?.text).toBe("Closed 1 alert.");
    const html = await page("carol", "/alerts");
    expect(html).toContain("No active alerts — everything is quiet");
    expect(html).toContain('href="/alert-rules"');
    // Closed ones are a filter away.
    expect(await page("carol", "/alerts?status=closed")).toContain(press.summary);
  });

  test("an operator looking into acme reads everything but is offered no action", async () => {
    const { switchSessionTenant } = await import("../../src/auth/sessions/service.ts");
    const { sha256Hex } = await import("../../src/lib/ids.ts");
    const oscar = await stage.agent("oscar");
    await switchSessionTenant(stage.pulse.app.auth.sessions, sha256Hex(oscar.cookies.get(stage.pulse.app.auth.cookies.session)!), "acme");
    try {
      const boiler = await openAlertOf(stage, "boiler-1");
      const list = await page("oscar", "/alerts");
      expect(list).toContain(boiler.summary);
      expect(list).not.toContain('name="ids"');
      expect(list).not.toContain(":acknowledge");
      const detail = await page("oscar", `/alerts/${boiler.id}`);
      expect(detail).toContain("Timeline");
      expect(detail).not.toContain('data-action="acknowledge"');
      expect(detail).not.toContain('data-action="silence"');
      const rules = await page("oscar", "/alert-rules");
      expect(rules).not.toContain("New rule");
      expect(await page("oscar", "/maintenance")).not.toContain("Plan maintenance");
    } finally {
      await switchSessionTenant(stage.pulse.app.auth.sessions, sha256Hex(oscar.cookies.get(stage.pulse.app.auth.cookies.session)!), null);
    }
  });

  test("pages of 50, newest first; the next page keeps the filters", async () => {
    await stage.rule("acme", { name: "Door open", metricName: "door_open", operator: "EQ", threshold: true, severity: "LOW" });
    const ids = Array.from({ length: 52 }, (_, i) => `door-${String(i).padStart(2, "0")}`);
    for (const id of ids) await stage.device("acme", id, "yard");
    const messages = ids.map((id, i) => ({ tenant_id: "acme", device_id: id, msg_type: "telemetry", provision_token: `tok-acme-${id}`, ts: (Date.now() - (60 - i) * 1000) / 1000, metrics: { door_open: true } }));
    const res = await fetch(`${stage.pulse.url}/ingest/v1/batch`, { method: "POST", body: JSON.stringify({ messages }) });
    expect(((await res.json()) as { accepted: number }).accepted).toBe(52);
    await stage.pulse.app.alerts.engine.idle();
    const first = await page("alice", "/alerts?sev=LOW");
    expect(first.match(/data-alert="/g)?.length).toBe(50);
    expect(first).toContain("door-51");
    expect(first).toMatch(/data-tab="LOW"[^>]*>[\s\S]*?data-count="true">52</);
    const next = /href="(\/alerts\?sev=LOW&amp;cursor=[^"]+)" rel="next"|rel="next" href="(\/alerts\?sev=LOW&amp;cursor=[^"]+)"/.exec(first);
    expect(next).not.toBeNull();
    const second = await page("alice", (next![1] ?? next![2])!.replaceAll("&amp;", "&"));
    expect(second.match(/data-alert="/g)?.length).toBe(2);
    expect(second).toContain('href="/devices/door-00"');
    expect(second).toContain('href="/devices/door-01"');
    expect(second).toContain("← Newest");
  });
});

describe("alert rules", () => {
  test("the list writes each condition out, with its severity, scope and state", async () => {
    const html = await page("alice", "/alert-rules");
    expect(html).toContain("temp_c > 90, clears below 80");
    expect(html).toContain("Boiler overheating");
    expect(html).toContain("device boiler-1");
    expect(html).toContain("New rule");
    expect(await page("bob", "/alert-rules")).not.toContain("New rule");
  });

  test("a clear threshold on the wrong side is refused next to its field, with what was typed kept", async () => {
    const res = await postForm(await stage.agent("alice"), "/alert-rules", { name: "Freezer warm", metric_name: "temp_c", operator: "GT", threshold: "-10", clear_threshold: "-5", duration: "5", duration_unit: "min", severity: "HIGH", enabled: "on", intent: "save" });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/id="rule-clear_threshold-err"[^>]*>For GT it must be at or below the threshold \(-10\)/);
    expect(html).toContain('value="Freezer warm"');
  });

  test("a rule made with the form is listed with its sentence; a rule on a metric nobody sends is flagged", async () => {
    const res = await postForm(await stage.agent("alice"), "/alert-rules", {
      name: "Freezer warm",
      metric_name: "freezer_c",
      operator: "GT",
      threshold: "-10",
      clear_threshold: "-15",
      duration: "5",
      duration_unit: "min",
      severity: "MEDIUM",
      tags: "zone=cold",
      enabled: "on",
      auto_close: "on",
      reopen: "30",
      reopen_unit: "min",
      intent: "save",
    });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toContain("freezer_c > -10 for 5 min, clears below -15");
    const html = await page("alice", "/alert-rules");
    expect(html).toContain("freezer_c > -10 for 5 min, clears below -15");
    expect(html).toContain("METRIC NEVER SEEN");
    expect(html).toContain("tag zone=cold");
  });

  test("preview counts how often a rule would have fired on the last 24 h of data", async () => {
    await stage.device("acme", "oven-2", "plant");
    const t0 = Date.now() - 6 * HOUR;
    // Two excursions over 200 °C on the oven in the last day.
    const temps = [150, 210, 220, 150, 140, 230, 160];
    await stage.history("oven-2", temps.map((v, i) => ({ at: new Date(t0 + i * 10 * 60_000), metrics: { oven_c: v } })));
    const res = await postForm(await stage.agent("alice"), "/alert-rules", { name: "Oven hot", metric_name: "oven_c", operator: "GT", threshold: "200", duration: "0", duration_unit: "min", severity: "LOW", enabled: "on", intent: "preview" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/would have fired <strong data-preview-fires="true">2 times<\/strong> on <strong data-preview-devices="true">1 device<\/strong>/);
    // A preview saves nothing.
    expect(await stage.count("select count(*) as n from alert_rules where name = 'Oven hot'")).toBe(0);
  });

  test("NO_HEARTBEAT tuning: a rule for a site, changed in its row", async () => {
    const alice = await stage.agent("alice");
    let res = await postForm(alice, "/alert-rules/heartbeat", { name: "Yard is patchy", sites: "yard", grace: "15", grace_unit: "min", severity: "LOW", enabled: "on" });
    expect(res.status).toBe(303);
    let html = await page("alice", "/alert-rules");
    expect(html).toContain("Yard is patchy");
    expect(html).toContain("site Yard");
    const [row] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ id: string; grace_seconds: number }>("select id, grace_seconds from heartbeat_rules where name = 'Yard is patchy'"));
    expect(row!.grace_seconds).toBe(900);
    res = await postForm(alice, `/alert-rules/heartbeat/${row!.id}`, { grace: "1", grace_unit: "h", severity: "MEDIUM" });
    expect(flashOf(res)?.kind).toBe("ok");
    const [after] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ grace_seconds: number; severity: string; enabled: boolean; scope: unknown }>("select grace_seconds, severity, enabled, scope from heartbeat_rules where id = $1", [row!.id]));
    expect(after).toMatchObject({ grace_seconds: 3600, severity: "MEDIUM", enabled: false, scope: { sites: ["yard"] } });
    html = await page("bob", "/alert-rules");
    expect(html).toContain("Yard is patchy");
    expect(html).not.toContain("/alert-rules/heartbeat/");
  });
});

test("a rule opens in its form with every field filled in, and is deleted behind a confirmation", async () => {
  const [rule] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from alert_rules where name = 'Freezer warm'"));
  const html = await page("alice", `/alert-rules/${rule!.id}`);
  expect(html).toContain('value="Freezer warm"');
  expect(html).toContain('value="freezer_c"');
  expect(html).toContain('value="-15"');
  expect(html).toContain('value="zone=cold"');
  expect(html).toMatch(/name="reopen" type="text" inputmode="decimal" value="30"/);
  expect(html).toContain("Delete rule");
  const res = await postForm(await stage.agent("alice"), `/alert-rules/${rule!.id}/delete`, {});
  expect(flashOf(res)?.text).toContain("Deleted “Freezer warm”");
  expect(await stage.count("select count(*) as n from alert_rules where name = 'Freezer warm'")).toBe(0);
  // Customers cannot.
  const [other] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from alert_rules where name = 'Pressure high'"));
  const refused = await postForm(await stage.agent("bob"), `/alert-rules/${other!.id}/delete`, {});
  expect(flashOf(refused)?.kind).toBe("error");
});

test("editing a rule through its form keeps what is not shown and saves the rest", async () => {
  const [rule] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from alert_rules where name = 'Pressure high'"));
  const res = await postForm(await stage.agent("alice"), `/alert-rules/${rule!.id}`, {
    name: "Pressure high",
    metric_name: "pressure_bar",
    operator: "GTE",
    threshold: "6",
    clear_threshold: "5.5",
    duration: "2",
    duration_unit: "min",
    severity: "HIGH",
    reopen: "1",
    reopen_unit: "h",
    enabled: "on",
    auto_close: "on",
    intent: "save",
  });
  expect(res.status).toBe(303);
  expect(flashOf(res)?.text).toContain("pressure_bar ≥ 6 for 2 min, clears below 5.5");
  const [after] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ duration_seconds: number; reopen_window_seconds: number; clear_threshold: number }>("select duration_seconds, reopen_window_seconds, clear_threshold from alert_rules where id = $1", [rule!.id]));
  expect(after).toEqual({ duration_seconds: 120, reopen_window_seconds: 3600, clear_threshold: 5.5 });
});

describe("maintenance windows", () => {
  test("a one-off window that covers now is listed as active now; a bad end is refused next to its field", async () => {
    const bob = await stage.agent("bob");
    const local = (t: number) => new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(t).replace(" ", "T");
    let res = await postForm(bob, "/maintenance", { name: "Pump swap", kind: "once", starts: local(Date.now() - HOUR), ends: local(Date.now() - 2 * HOUR), sites: "yard" });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/id="mw-ends-err"[^>]*>Must be after starts_at/);
    res = await postForm(bob, "/maintenance", { name: "Pump swap", kind: "once", starts: local(Date.now() - HOUR), ends: local(Date.now() + HOUR), sites: "yard" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toContain("it is active now");
    const html = await page("bob", "/maintenance");
    expect(html).toMatch(/data-window="Pump swap"[\s\S]*?ACTIVE NOW/);
  });

  test("a window is edited and removed", async () => {
    const [w] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ id: string }>("select id from maintenance_windows where name = 'Pump swap'"));
    const form = await page("bob", `/maintenance/${w!.id}`);
    expect(form).toContain('value="Pump swap"');
    const bob = await stage.agent("bob");
    const res = await postForm(bob, `/maintenance/${w!.id}/delete`, {});
    expect(flashOf(res)?.text).toContain("Removed “Pump swap”");
    expect(await stage.count("select count(*) as n from maintenance_windows where name = 'Pump swap'")).toBe(0);
  });

  test("a weekly window says when it happens next", async () => {
    const res = await postForm(await stage.agent("alice"), "/maintenance", { name: "Sunday patching", kind: "recurring", freq: "weekly", days: ["SU"], rec_start: "02:00", duration: "2", duration_unit: "h", timezone: "Europe/Berlin", from: "2024-01-01" });
    expect(res.status).toBe(303);
    const html = await page("alice", "/maintenance");
    expect(html).toContain("Weekly on Sun at 02:00 for 2 h (Europe/Berlin)");
    expect(html).toMatch(/data-window="Sunday patching"[\s\S]*?(Next|ACTIVE NOW)/);
  });
});

describe("the fleet overview", () => {
  test("counts what the database holds, for the tenant", async () => {
    const html = await page("alice", "/");
    const kpi = (name: string) => new RegExp(`data-kpi="${name}">([^<]*)<`).exec(html)?.[1];
    const state = async (c: string) => stage.count("select count(*) as n from devices d left join device_state s on s.tenant_id = d.tenant_id and s.device_id = d.id where d.tenant_id = 'acme' and coalesce(s.connectivity, 'OFFLINE') = $1", [c]);
    expect(kpi("online")).toBe(String(await state("ONLINE")));
    expect(kpi("offline")).toBe(String(await state("OFFLINE")));
    const critical = await stage.count("select count(*) as n from alerts where tenant_id = 'acme' and status <> 'CLOSED' and severity = 'CRITICAL'");
    expect(kpi("alerts-critical")).toBe(String(critical));
    expect(html).toContain("Recently seen");
    const [latest] = await withSystem(stage.pulse.app.db, (tx) => tx.query<{ device_id: string }>("select device_id from device_state where tenant_id = 'acme' and last_seen_at is not null order by last_seen_at desc limit 1"));
    expect(/data-table="Recently seen devices"[\s\S]*?<tr data-device="([^"]+)"/.exec(html)?.[1]).toBe(latest!.device_id);
    expect(html).not.toContain("press-9");
  });

  test("oscar sees totals and a row per tenant", async () => {
    const html = await page("oscar", "/");
    expect(html).toMatch(/data-tenant="acme"/);
    expect(html).toMatch(/data-tenant="globex"/);
    expect(html).toContain('data-facts="server"');
    const all = await stage.count("select count(*) as n from alerts where status <> 'CLOSED' and severity = 'HIGH'");
    expect(html).toContain(`data-kpi="alerts-high">${all}<`);
  });
});

describe("the helpers behind the pages", () => {
  test("conditions read as sentences", () => {
    expect(ruleCondition({ metric_name: "temp_c", operator: "GT", threshold: 80, clear_threshold: 75, duration_seconds: 300 })).toBe("temp_c > 80 for 5 min, clears below 75");
    expect(ruleCondition({ metric_name: "battery", operator: "LTE", threshold: 10, clear_threshold: 20, duration_seconds: 0 })).toBe("battery ≤ 10, clears above 20");
    expect(ruleCondition({ metric_name: "mode", operator: "EQ", threshold: "fault", clear_threshold: null, duration_seconds: 7200 })).toBe('mode = "fault" for 2 h');
  });

  test("form values become the service's input; unreadable numbers stay unreadable for the service to name", () => {
    const input = ruleInputFrom({ name: "x", metric_name: "door", operator: "EQ", threshold: "true", duration: "90", duration_unit: "s", enabled: "on", tags: "a=1, b=2" });
    expect(input).toMatchObject({ threshold: true, durationSeconds: 90, enabled: true, autoClose: false, scope: { tags: { a: "1", b: "2" } } });
    expect(Number.isNaN(ruleInputFrom({ operator: "GT", threshold: "eighty" }).threshold)).toBe(true);
    expect(() => ruleInputFrom({ operator: "GT", tags: "zone" })).toThrow("key=value");
  });

  test("silence choices: presets, tomorrow 08:00 in the zone, custom times", () => {
    const now = new Date("2025-03-29T22:30:00Z"); // Berlin: 23:30, the night before summer time
    expect(silenceChoice("15", undefined, now, "Europe/Berlin").at.toISOString()).toBe("2025-03-29T22:45:00.000Z");
    expect(silenceChoice("tomorrow", undefined, now, "Europe/Berlin").at.toISOString()).toBe("2025-03-30T06:00:00.000Z");
    expect(silenceChoice("custom", "2025-03-30T12:00", now, "Europe/Berlin").at.toISOString()).toBe("2025-03-30T10:00:00.000Z");
    expect(() => silenceChoice("custom", "", now, "UTC")).toThrow("Pick the date and time");
    expect(() => silenceChoice("forever", undefined, now, "UTC")).toThrow("how long");
  });

  test("the inbox reads its filters from the URL and ignores what it does not know", () => {
    const now = new Date("2025-01-01T12:00:00Z");
    const f = parseInbox(new URL("http://x/alerts?sev=HIGH&status=closed&range=24h&type=NOPE&device=pump-7&cursor=garbage"), now);
    expect(f.sev).toBe("HIGH");
    expect(f.filter).toMatchObject({ status: "CLOSED", deviceId: "pump-7", type: undefined, from: new Date("2024-12-31T12:00:00Z") });
    expect(f.before).toBeUndefined();
    expect(parseInbox(new URL("http://x/alerts"), now).filter.status).toBe("ACTIVE");
  });

  test("next occurrences of recurring and one-off windows", () => {
    const now = Date.parse("2025-06-04T12:00:00Z"); // a Wednesday
    const weekly = { starts_at: new Date("2025-01-01T00:00:00Z"), ends_at: null, recurrence: { freq: "weekly" as const, days: ["SU" as const], start: "02:00", durationMinutes: 120, timezone: "Europe/Berlin" } };
    expect(new Date(nextOccurrence(weekly, now)!.start).toISOString()).toBe("2025-06-08T00:00:00.000Z");
    expect(nextOccurrence({ ...weekly, ends_at: new Date("2025-06-06T00:00:00Z") }, now)).toBeUndefined();
    expect(nextOccurrence({ starts_at: new Date(now + HOUR), ends_at: new Date(now + 2 * HOUR), recurrence: null }, now)!.start).toBe(now + HOUR);
    expect(nextOccurrence({ starts_at: new Date(now - HOUR), ends_at: new Date(now + HOUR), recurrence: null }, now)).toBeUndefined();
    const input = windowInputFrom({ name: "n", kind: "recurring", freq: "weekly", days: "MO,WE", rec_start: "03:00", duration: "90", duration_unit: "min", timezone: "UTC", from: "2025-06-01", until: "2025-06-30" }, "Europe/Berlin");
    expect(input).toMatchObject({ startsAt: "2025-06-01T00:00:00.000Z", endsAt: "2025-07-01T00:00:00.000Z", recurrence: { freq: "weekly", days: ["MO", "WE"], duration_minutes: 90, timezone: "UTC" } });
  });

  test("messages per second per tenant over the last full seconds", () => {
    let t = 1_000_000;
    const rate = createIngestRate({ windowSeconds: 10, now: () => t });
    const batch = (tenant: string, n: number) => Array.from({ length: n }, () => ({ env: { tenantId: tenant } }));
    rate.record(batch("acme", 30));
    rate.record(batch("globex", 10));
    expect(rate.perSecond("acme")).toBe(0); // the current second is still filling
    t += 1000;
    expect(rate.perSecond("acme")).toBe(3);
    expect(rate.perSecond(null)).toBe(4);
    t += 11_000;
    expect(rate.perSecond(null)).toBe(0);
    expect(formatRate(0)).toBe("0");
    expect(formatRate(2.44)).toBe("2.4");
    expect(formatRate(1234.4)).toBe("1,234");
  });

  test("JSON in a script element cannot close it", () => {
    const s = scriptJson({ label: "</script><script>alert(1)</script>&" });
    expect(s).not.toContain("<");
    expect(JSON.parse(s)).toEqual({ label: "</script><script>alert(1)</script>&" });
  });
});
