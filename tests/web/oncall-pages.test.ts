// The on-call and escalation pages over plain HTTP, as a browser without
// JavaScript sees them, on Tuesday 20 October 2026 in Berlin (the clocks go
// back on the 25th). Alice builds a schedule through the forms: a handoff
// time the clocks skip is refused next to the field, as are an empty
// rotation and unreadable restrictions; the timeline is SVG whose titles
// name each person and the exact times, with the DST change marked; edits
// apply from now on. Bob takes over for four hours and ends it; alice adds
// and refuses overrides. The level builder adds, saves and reorders levels
// with the no-JS buttons, keeps a webhook it never shows, names a refused
// delay next to its level, previews who is on call now, and will not delete
// a policy a rule uses (the rule form's policy select). Contact methods
// are kept per person. Carol at globex reaches none of it, bob reads
// without changing, oscar is asked to choose a tenant. The pure helpers
// behind the forms are checked directly.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getEscalationPolicy } from "../../src/escalation/service.ts";
import { getOnCallSchedule, listScheduleOverrides } from "../../src/oncall/service.ts";
import { dstLabel, initials, personColour, zonedSpan } from "../../web/components/oncall-timeline.ts";
import { applyIntent, draftsFrom, emptyLevel, intentOf, policyInputFrom } from "../../web/pages/escalation-form.ts";
import { previewLine } from "../../web/pages/escalation.ts";
import { parseRestrictions, restrictionsValue, rotationText } from "../../web/pages/oncall-common.ts";
import { layerInputFrom } from "../../web/pages/oncall-layers.ts";
import { windowStart } from "../../web/pages/oncall.ts";
import { flashOf, postForm } from "../e2e/alerts-fixtures.ts";
import { startOnCallStage, type OnCallStage } from "../e2e/oncall-fixtures.ts";

let stage: OnCallStage;
let web = ""; // the schedule alice builds through the forms
let primary = ""; // one made through the service: alice on call now, bob next

beforeAll(async () => {
  stage = await startOnCallStage();
  primary = (await stage.schedule("Primary")).id;
  await stage.contact("alice", { kind: "email", address: "alice-pager@acme.test", min_severity: "HIGH" });
}, 60_000);
afterAll(() => stage?.stop(), 30_000);

type Who = "alice" | "bob" | "carol" | "oscar";
const get = async (who: Who, path: string, status = 200) => {
  const res = await (await stage.agent(who)).fetch(path);
  expect(res.status).toBe(status);
  return res.text();
};
const post = async (who: Who, path: string, fields: Record<string, string | string[]> = {}) => postForm(await stage.agent(who), path, fields);
/** The error next to a field, by the input's name. */
const errorAt = (html: string, name: string) => new RegExp(`field-invalid[\\s\\S]{0,800}?name="${name}"[\\s\\S]{0,1500}?class="field-error"[^>]*>([^<]*)<`).exec(html)?.[1];
const unescape = (s: string) => s.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&#39;", "'");
/** The <title> texts of the timeline's bars in one row ("layer", "override", "final"). */
const titles = (html: string, row: string) => {
  const start = html.indexOf(`data-row="${row}"`);
  if (start < 0) return [];
  const next = html.indexOf('data-row="', start + 10);
  const part = html.slice(start, next > 0 ? next : html.indexOf("</svg>", start));
  return [...part.matchAll(/<g class="tl-seg[^"]*"[^>]*><title>([^<]*)<\/title>/g)].map((m) => unescape(m[1]!));
};
const ids = () => ({ alice: stage.world.cast.alice.id, bob: stage.world.cast.bob.id });

describe("a schedule built through the forms", () => {
  test("alice creates a schedule; the empty list said what to do", async () => {
    expect(await get("alice", "/oncall")).toContain("Primary");
    const res = await post("alice", "/oncall", { name: "Web Primary", timezone: "Europe/Berlin" });
    expect(res.status).toBe(303);
    web = /\/oncall\/([0-9a-f-]{36})\/layers\/new/.exec(res.headers.get("location")!)![1]!;
    expect(flashOf(res)?.text).toContain("Created the schedule “Web Primary” in Europe/Berlin");
    // A name taken (in any case) is refused next to the name.
    const dup = await post("alice", "/oncall", { name: "web primary", timezone: "UTC" });
    expect(dup.status).toBe(400);
    expect(errorAt(await dup.text(), "name")).toContain("exists");
    const page = await get("alice", `/oncall/${web}`);
    expect(page).toContain("Nobody is on call yet");
  });

  test("a handoff time the clocks skip on the start date is refused next to the field; so are an empty rotation and unreadable restrictions", async () => {
    const { alice, bob } = ids();
    const base = { name: "Nights", rotation: "daily", position: "0", turn_0: alice, turn_1: bob, turn_2: "", restrictions: "" };
    let res = await post("alice", `/oncall/${web}/layers`, { ...base, handoff_time: "02:30", start_date: "2027-03-28" });
    expect(res.status).toBe(400);
    let html = await res.text();
    expect(errorAt(html, "handoff_time")).toBe("02:30 does not exist on 2027-03-28 in Europe/Berlin (the clocks spring forward over it); choose another time or start date");
    // What was typed stays.
    expect(html).toContain('value="2027-03-28"');
    res = await post("alice", `/oncall/${web}/layers`, { ...base, turn_0: "", turn_1: "", handoff_time: "09:00", start_date: "2026-10-20" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Choose at least one person to take turns.");
    res = await post("alice", `/oncall/${web}/layers`, { ...base, handoff_time: "09:00", start_date: "2026-10-20", restrictions: "Funday 09:00-17:00" });
    expect(res.status).toBe(400);
    expect(unescape(errorAt(await res.text(), "restrictions") ?? "")).toContain('"Funday" is not a day');
    expect((await getOnCallSchedule(stage.deps, stage.world.as(stage.world.cast.alice), web)).layers).toHaveLength(0);
  });

  test("a daily layer of alice and bob: the timeline names them in SVG titles with exact times, marks the DST change, now, and the gap before the layer began", async () => {
    const { alice, bob } = ids();
    const res = await post("alice", `/oncall/${web}/layers`, { name: "Primary", rotation: "daily", handoff_time: "09:00", handoff_weekday: "MO", length_hours: "", start_date: "2026-10-20", position: "0", turn_0: alice, turn_1: bob, turn_2: "", restrictions: "" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Added the layer “Primary”: Daily at 09:00, from now on.");
    const html = await get("bob", `/oncall/${web}`);
    expect(html).toContain('data-current="alice"');
    expect(html).toContain("until <time");
    expect(html).toContain('data-dst="DST −1 h 03:00"');
    expect(html).toContain("DST −1 h 03:00: Sun 25 Oct, the clocks in Europe/Berlin go back from 03:00 to 02:00");
    expect(html).toContain('data-now="2026-10-20T08:00:00.000Z"');
    const final = titles(html, "final");
    // Bars cut by the window's edge say their real times (read two days either side).
    expect(final[0]).toBe("Gap: nobody is on call\nSun 18 Oct, 00:00 CEST – Tue 20 Oct, 10:00 CEST (2 d 10 h)");
    expect(final[1]).toBe("alice (Alice Admin) · layer Primary\nTue 20 Oct, 10:00 CEST – Wed 21 Oct, 09:00 CEST (23 h)");
    expect(final[2]).toBe("bob (Bob Customer) · layer Primary\nWed 21 Oct, 09:00 CEST – Thu 22 Oct, 09:00 CEST (1 d)");
    // The shift over the change is 25 hours long, 09:00 to 09:00 on the wall clock.
    expect(final).toContain("alice (Alice Admin) · layer Primary\nSat 24 Oct, 09:00 CEST – Sun 25 Oct, 09:00 CET (1 d 1 h)");
    expect(titles(html, "layer")[0]).toBe(final[1]);
    // Names in the bars, not only colours; the gap says so.
    expect(html).toMatch(/<text class="tl-bar-text"[^>]*>alice<\/text>/);
    expect(html).toMatch(/<text class="tl-bar-text"[^>]*>bob<\/text>/);
    // The same person has the same colour everywhere.
    expect(html).toContain(`class="tl-seg tl-bar ${personColour(alice)}"`);
    // No inline styles anywhere (the CSP forbids them).
    expect(html).not.toMatch(/\sstyle=/);
    // Readers without the SVG get the shifts as a table.
    expect(html).toContain('data-shift="alice"');
  });

  test("the window moves by weeks and always runs midnight to midnight in the schedule's zone", async () => {
    const html = await get("alice", `/oncall/${web}?from=2026-10-27`);
    expect(html).toContain("On-call timeline of Web Primary: Tue 27 Oct, 00:00 CET to Tue 10 Nov, 00:00 CET");
    expect(html).not.toContain("data-dst=");
    expect(await get("alice", `/oncall/${web}`)).toContain("Tue 20 Oct, 00:00 CEST to Tue 3 Nov, 00:00 CET");
  });

  test("an edit applies from now on: the form says so and the past keeps its shifts", async () => {
    const s = await getOnCallSchedule(stage.deps, stage.world.as(stage.world.cast.alice), web);
    const layer = s.layers[0]!;
    const form = await get("alice", `/oncall/${web}/layers/${layer.layer_id}`);
    expect(form).toContain("Changes apply from now on; past shifts do not change.");
    expect(form).toContain(`<option value="${ids().alice}" selected`);
    const { alice, bob } = ids();
    const res = await post("alice", `/oncall/${web}/layers/${layer.layer_id}`, { name: "Primary", rotation: "weekly", handoff_weekday: "MO", handoff_time: "09:00", length_hours: "", start_date: "2026-10-19", position: "0", turn_0: bob, turn_1: alice, restrictions: "" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toContain("Weekly, Mondays at 09:00");
    const after = await getOnCallSchedule(stage.deps, stage.world.as(stage.world.cast.alice), web);
    expect(after.layers[0]).toMatchObject({ layer_id: layer.layer_id, rotation: "weekly", users: [bob, alice] });
    const html = await get("alice", `/oncall/${web}`);
    expect(titles(html, "final")[1]).toBe("bob (Bob Customer) · layer Primary\nTue 20 Oct, 10:00 CEST – Mon 26 Oct, 09:00 CET (6 d)");
  });
});

describe("overrides", () => {
  test("bob takes over for the next four hours and sees it on the timeline, over the layer", async () => {
    const nights = (await stage.schedule("Nights", ["alice"])).id;
    const page = await get("bob", `/oncall/${nights}`);
    expect(page).toContain("data-takeover");
    expect(page).toContain('data-current="alice"');
    expect(page).not.toContain("Add layer");
    expect(page).not.toContain("Delete schedule");
    const res = await post("bob", `/oncall/${nights}/takeover`, { hours: "4" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("You are on call for “Nights” until Tue 20 Oct, 14:00 CEST (4 h), over every layer.");
    const html = await get("bob", `/oncall/${nights}`);
    expect(html).toContain('data-current="bob"');
    expect(titles(html, "override")).toEqual(["bob (Bob Customer) · override\nTue 20 Oct, 10:00 CEST – Tue 20 Oct, 14:00 CEST (4 h)"]);
    expect(titles(html, "final")).toContain("bob (Bob Customer) · override\nTue 20 Oct, 10:00 CEST – Tue 20 Oct, 14:00 CEST (4 h)");
    expect(titles(html, "final").some((t) => t.startsWith("alice (Alice Admin) · layer Primary\nTue 20 Oct, 14:00 CEST – "))).toBe(true);
    // Hours outside 0–720 are refused where they were chosen.
    const bad = await post("bob", `/oncall/${nights}/takeover`, { hours: "0" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("More than 0 and at most 720");
  });

  test("alice puts bob on call for a coming evening; the past is refused next to its field; bob removes his own", async () => {
    const { bob } = ids();
    let res = await post("alice", `/oncall/${primary}/overrides`, { user_id: bob, starts_at: "2026-10-22T18:00", ends_at: "2026-10-22T23:00", note: "Dentist swap" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Override added: Thu 22 Oct, 18:00 CEST – Thu 22 Oct, 23:00 CEST (5 h).");
    const html = await get("alice", `/oncall/${primary}`);
    expect(html).toContain('data-override="bob"');
    expect(html).toContain("Dentist swap");
    res = await post("alice", `/oncall/${primary}/overrides`, { user_id: bob, starts_at: "2026-10-19T18:00", ends_at: "2026-10-19T23:00" });
    expect(res.status).toBe(400);
    expect(errorAt(await res.text(), "starts_at")).toContain("Must not be in the past");
    res = await post("alice", `/oncall/${primary}/overrides`, { user_id: bob, starts_at: "2026-10-23T18:00", ends_at: "2026-10-23T17:00" });
    expect(errorAt(await res.text(), "ends_at")).toBe("Must be after starts_at");
    // Bob may not put someone else on call.
    res = await post("bob", `/oncall/${primary}/overrides`, { user_id: ids().alice, starts_at: "2026-10-23T18:00", ends_at: "2026-10-23T20:00" });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("may not put someone else on call");
    // His own coming override he may remove.
    const [o] = await listScheduleOverrides(stage.deps, stage.world.as(stage.world.cast.alice), primary);
    expect(await get("bob", `/oncall/${primary}`)).toContain(`/oncall/${primary}/overrides/${o!.id}/delete`);
    res = await post("bob", `/oncall/${primary}/overrides/${o!.id}/delete`);
    expect(flashOf(res)?.text).toBe("Override removed.");
    expect(await get("bob", `/oncall/${primary}`)).toContain("data-no-overrides");
  });
});

describe("gaps, lists and people", () => {
  test("a layer restricted to office hours leaves gaps: the report lists them and the list warns", async () => {
    const { alice } = ids();
    const res = await post("alice", "/oncall", { name: "Office", timezone: "Europe/Berlin" });
    const id = /\/oncall\/([0-9a-f-]{36})\//.exec(res.headers.get("location")!)![1]!;
    expect((await post("alice", `/oncall/${id}/layers`, { name: "Office", rotation: "daily", handoff_time: "09:00", start_date: "2026-10-20", position: "0", turn_0: alice, restrictions: "Mon–Fri 09:00–17:00" })).status).toBe(303);
    const html = await get("alice", `/oncall/${id}`);
    expect(html.match(/data-gap="true"/g)?.length).toBeGreaterThan(5);
    expect(html).toContain("Mon–Fri 09:00–17:00");
    // The gaps of the final row say so in words, not only in red.
    expect(html).toMatch(/<g class="tl-seg tl-gap"[^>]*><title>Gap: nobody is on call\n[^<]*<\/title><rect[^>]*><\/rect><text class="tl-bar-text"[^>]*>gap<\/text>/);
    const list = await get("alice", "/oncall");
    expect(list).toMatch(/GAPS/);
  });

  test("my on-call: when next, the coming shifts and a link to the contact methods", async () => {
    const html = await get("bob", "/oncall/me");
    // Bob holds Web Primary's week and Nights for four hours; Primary is his tomorrow.
    expect(html).toContain('data-me-now="Web Primary"');
    expect(html).toContain('data-me-now="Nights"');
    expect(html).toContain('data-me-next="Primary"');
    expect(html).toContain("Next: <strong>Primary</strong> from Wed 21 Oct, 09:00 CEST");
    expect(html).toContain('href="/account/contact"');
    expect(html).toContain("bob@acme.test");
  });

  test("contact methods: added per person, refusals next to the field, a webhook's secret shown once and its URL never", async () => {
    let res = await post("bob", "/account/contact", { kind: "email", address: "bob-pager@acme.test", url: "", min_severity: "CRITICAL" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Added email bob-pager@acme.test for CRITICAL only.");
    res = await post("bob", "/account/contact", { kind: "slack", address: "", url: "not a url", min_severity: "HIGH" });
    expect(res.status).toBe(400);
    expect(errorAt(await res.text(), "url")).toBeTruthy();
    res = await post("bob", "/account/contact", { kind: "webhook", address: "", url: "https://hooks.example.test/bob/s3cr3t-path", secret: "", min_severity: "HIGH" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const shown = await res.text();
    expect(shown).toMatch(/id="contact-secret"[^>]*>whsec_/);
    const page = await get("bob", "/account/contact");
    expect(page).toContain("https://hooks.example.test");
    expect(page).not.toContain("s3cr3t-path");
    expect(page).not.toMatch(/whsec_[A-Za-z0-9+/]{8}/);
    // Alice sees only her own.
    expect(await get("alice", "/account/contact")).not.toContain("bob-pager");
    expect(await get("alice", "/account")).toContain('href="/account/contact"');
  });
});

describe("escalation policies", () => {
  let policy = "";
  const levelFields = () => ({
    name: "Web pumps",
    repeat_count: "1",
    repeat_delay_minutes: "30",
    order: ["0", "1", "2"],
    l0_delay: "0",
    l0_schedules: primary,
    l1_delay: "15",
    l1_users: ids().bob,
    l2_delay: "10",
    l2_webhook: "https://hooks.example.test/escalate/t0ken",
  });

  test("alice builds three levels without JavaScript: add re-draws the form, save creates it", async () => {
    const form = await get("alice", "/escalation/new");
    expect(form.match(/data-level="/g)).toHaveLength(1);
    const more = await post("alice", "/escalation", { name: "Web pumps", order: ["0"], l0_delay: "0", l0_schedules: primary, intent: "add" });
    expect(more.status).toBe(200);
    const html = await more.text();
    expect(html.match(/data-level="/g)).toHaveLength(2);
    expect(html).toContain("Level 2 added below");
    expect(html).toContain(`value="${primary}" checked`);
    const res = await post("alice", "/escalation", { ...levelFields(), intent: "save" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Created “Web pumps”: 3 levels.");
    policy = /\/escalation\/([0-9a-f-]{36})/.exec(res.headers.get("location")!)![1]!;
    const p = await getEscalationPolicy(stage.deps, stage.world.as(stage.world.cast.alice), policy);
    expect(p.levels.map((l) => [l.delay_minutes, l.targets[0]!.type])).toEqual([
      [0, "schedule"],
      [15, "user"],
      [10, "webhook"],
    ]);
    expect(p).toMatchObject({ repeat_count: 1, repeat_delay_minutes: 30 });
  });

  test("the preview names who is on call now and how each level reaches them; the webhook's URL is never shown", async () => {
    const html = await get("alice", `/escalation/${policy}`);
    expect(html).toContain("level 1 now: alice (on call for Primary) via email");
    expect(html).toMatch(/level 2 in 15 min: bob via (email, webhook|webhook, email) /);
    expect(html).toContain("level 3 in 25 min: webhook https://hooks.example.test");
    expect(html).not.toContain("t0ken");
  });

  test("the no-JS Up button moves a level and saves; the kept webhook stays", async () => {
    const p = await getEscalationPolicy(stage.deps, stage.world.as(stage.world.cast.alice), policy);
    const hook = p.levels[2]!.targets[0] as { id: string };
    const { l2_webhook: _, ...rest } = levelFields();
    const res = await post("alice", `/escalation/${policy}`, { ...rest, l2_keep: hook.id, intent: "up:2" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toBe("Level 3 moved up; saved “Web pumps”.");
    const after = await getEscalationPolicy(stage.deps, stage.world.as(stage.world.cast.alice), policy);
    expect(after.levels.map((l) => l.targets[0]!.type)).toEqual(["schedule", "webhook", "user"]);
    expect(after.levels[1]!.targets[0]).toMatchObject({ type: "webhook", id: hook.id, url: "https://hooks.example.test/…" });
    // Down on the first level: now the webhook leads.
    const down = await post("alice", `/escalation/${policy}`, { ...rest, order: ["0", "1", "2"], l1_delay: "10", l1_users: [], l1_keep: hook.id, l2_delay: "15", l2_users: ids().bob, intent: "down:0" });
    expect(flashOf(down)?.text).toBe("Level 1 moved down; saved “Web pumps”.");
    expect((await getEscalationPolicy(stage.deps, stage.world.as(stage.world.cast.alice), policy)).levels.map((l) => l.targets[0]!.type)).toEqual(["webhook", "schedule", "user"]);
  });

  test("a refused delay and a level without targets are named next to their level", async () => {
    const res = await post("alice", `/escalation/${policy}`, { name: "Web pumps", order: ["0", "1"], l0_delay: "0", l0_schedules: primary, l1_delay: "soon", l1_users: ids().bob, intent: "save" });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/data-level="2"[\s\S]*?id="l1-delay-err"[^>]*>A whole number from 0 to 1440</);
    const none = await post("alice", "/escalation", { name: "Empty", order: ["0"], l0_delay: "0", intent: "save" });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain("data-levels-error");
  });

  test("a rule names the policy through its form's select; the policy then refuses deletion; make default marks it", async () => {
    const form = await get("alice", "/alert-rules/new");
    expect(form).toContain('name="escalation_policy_id"');
    expect(form).toContain("Tenant default (none set: not escalated)");
    let res = await post("alice", "/alert-rules", { name: "Pump hot", metric_name: "temp_c", operator: "GT", threshold: "80", duration: "0", duration_unit: "min", severity: "CRITICAL", reopen: "60", reopen_unit: "min", enabled: "on", escalation_policy_id: policy, intent: "save" });
    expect(res.status).toBe(303);
    const rules = await stage.world.must<{ items: Array<{ id: string; name: string; escalation_policy_id: string | null }> }>("/alert-rules");
    const rule = rules.items.find((r) => r.name === "Pump hot")!;
    expect(rule.escalation_policy_id).toBe(policy);
    expect(await get("alice", `/alert-rules/${rule.id}`)).toContain(`<option value="${policy}" selected`);
    const page = await get("alice", `/escalation/${policy}`);
    expect(page).toContain('data-used-by="true">Pump hot');
    expect(page).toContain("data-delete-refused");
    res = await post("alice", `/escalation/${policy}/delete`);
    expect(flashOf(res)).toMatchObject({ kind: "error" });
    expect(flashOf(res)?.text).toContain("is used by Pump hot");
    res = await post("alice", `/escalation/${policy}/default`);
    expect(flashOf(res)?.text).toContain("is now the tenant default");
    expect(await get("alice", "/escalation")).toContain("data-default");
    expect(await get("alice", "/alert-rules/new")).toContain("Tenant default (Web pumps)");
    // Back to the tenant default on the rule: the empty choice.
    res = await post("alice", `/alert-rules/${rule.id}`, { name: "Pump hot", metric_name: "temp_c", operator: "GT", threshold: "80", duration: "0", duration_unit: "min", severity: "CRITICAL", reopen: "60", reopen_unit: "min", enabled: "on", escalation_policy_id: "", intent: "save" });
    expect(res.status).toBe(303);
    expect((await stage.world.must<{ escalation_policy_id: string | null }>(`/alert-rules/${rule.id}`)).escalation_policy_id).toBeNull();
  });

  test("bob reads policies and previews without a form; his changes are refused", async () => {
    const html = await get("bob", `/escalation/${policy}`);
    expect(html).toContain("data-levels-readonly");
    expect(html).toContain("data-preview");
    expect(html).not.toContain("data-policy-form");
    expect(html).not.toContain("Make tenant default");
    expect((await post("bob", `/escalation/${policy}`, { name: "Mine", order: ["0"], l0_delay: "0", l0_users: ids().bob })).status).toBe(403);
    expect(flashOf(await post("bob", `/escalation/${policy}/delete`))).toMatchObject({ kind: "error", text: "Your role (customer) may not delete escalation policies" });
    await get("bob", "/escalation/new", 403);
  });
});

describe("tenants and roles", () => {
  test("carol at globex reaches none of acme's schedules or policies", async () => {
    expect(await get("carol", "/oncall")).not.toContain("Primary");
    await get("carol", `/oncall/${primary}`, 404);
    await get("carol", `/oncall/${primary}/layers/new`, 404);
    expect((await post("carol", `/oncall/${primary}/takeover`, { hours: "4" })).status).toBe(404);
    const policies = await stage.world.must<{ items: Array<{ id: string }> }>("/escalation-policies");
    expect(await get("carol", "/escalation")).not.toContain("Web pumps");
    await get("carol", `/escalation/${policies.items[0]!.id}`, 404);
  });

  test("bob reads schedules but cannot change them", async () => {
    await get("bob", `/oncall/${primary}/layers/new`, 403);
    expect((await post("bob", `/oncall/${primary}/layers`, { name: "Mine", rotation: "daily", handoff_time: "09:00", start_date: "2026-10-20", position: "0", turn_0: ids().bob })).status).toBe(403);
    const del = await post("bob", `/oncall/${primary}/delete`);
    expect(flashOf(del)).toMatchObject({ kind: "error", text: "Your role (customer) may not delete on-call schedules" });
    expect(await get("bob", "/oncall")).toContain("Primary");
  });

  test("oscar, in no tenant, is asked to choose one", async () => {
    expect(await get("oscar", "/oncall")).toContain("belong to a tenant");
    expect(await get("oscar", "/oncall/me")).toContain("belong to a tenant");
    expect(await get("oscar", "/escalation")).toContain("belong to a tenant");
  });
});

describe("the pure helpers behind the pages", () => {
  test("restrictions read as people write them, and back", () => {
    expect(parseRestrictions("Mon–Fri 09:00–17:00\nsat, sun 10:00-14:00\n22:00 - 6:00")).toEqual([
      { days: ["MO", "TU", "WE", "TH", "FR"], start: "09:00", end: "17:00" },
      { days: ["SA", "SU"], start: "10:00", end: "14:00" },
      { start: "22:00", end: "06:00" },
    ]);
    expect(parseRestrictions("Fri-Mon 18:00-08:00")[0]!.days).toEqual(["FR", "SA", "SU", "MO"]);
    expect(restrictionsValue(parseRestrictions("MO,WE,FR 08:00-12:00\nMon-Sun 00:00-06:00"))).toBe("Mon, Wed, Fri 08:00–12:00\nMon–Sun 00:00–06:00");
    expect(() => parseRestrictions("weekdays")).toThrow("like");
    expect(parseRestrictions("  \n")).toEqual([]);
  });

  test("rotations, DST labels, initials and colours", () => {
    expect(rotationText({ rotation: "custom", length_hours: 12, handoff_time: "08:00", handoff_weekday: null })).toBe("Every 12 h from 08:00");
    expect(rotationText({ rotation: "custom", length_hours: 48, handoff_time: "08:00", handoff_weekday: null })).toBe("Every 2 days at 08:00");
    expect(dstLabel({ at: new Date("2027-03-28T01:00:00Z"), offsetBefore: 60, offsetAfter: 120 })).toBe("DST +1 h 02:00");
    expect(dstLabel({ at: new Date("2026-10-25T01:00:00Z"), offsetBefore: 120, offsetAfter: 60 })).toBe("DST −1 h 03:00");
    expect(dstLabel({ at: new Date("2026-04-04T15:00:00Z"), offsetBefore: 630, offsetAfter: 600 })).toBe("DST −30 min 01:30");
    expect(initials({ name: "Alice Admin", username: "alice" })).toBe("AA");
    expect(initials({ name: "", username: "bob" })).toBe("BO");
    expect(personColour("0b7d3c1e-aaaa-4bbb-8ccc-000000000001")).toBe(personColour("0b7d3c1e-aaaa-4bbb-8ccc-000000000001"));
    expect(zonedSpan(new Date("2026-10-24T07:00:00Z"), new Date("2026-10-25T08:00:00Z"), "Europe/Berlin")).toBe("Sat 24 Oct, 09:00 CEST – Sun 25 Oct, 09:00 CET (1 d 1 h)");
  });

  test("windows start at local midnight, whatever the DST", () => {
    expect(windowStart("Europe/Berlin", new Date("2026-10-25T12:00:00Z")).toISOString()).toBe("2026-10-24T22:00:00.000Z");
    expect(windowStart("Europe/Berlin", new Date(), "2026-10-26").toISOString()).toBe("2026-10-25T23:00:00.000Z");
    // A day whose midnight the clocks skip starts when the day does.
    expect(windowStart("America/Santiago", new Date(), "2026-09-06").toISOString()).toBe("2026-09-06T04:00:00.000Z");
    expect(windowStart("UTC", new Date("2026-01-02T05:00:00Z"), "not-a-date").toISOString()).toBe("2026-01-02T00:00:00.000Z");
  });

  test("layer and level forms become the services' input", () => {
    const input = layerInputFrom({ name: "N", rotation: "custom", length_hours: "12", handoff_time: "08:00", start_date: "2026-10-20", position: "2", restrictions: "" }, ["u1", "", "u2"]);
    expect(input).toMatchObject({ rotation: "custom", length_hours: 12, handoff_weekday: null, users: ["u1", "u2"], position: 2, restrictions: [] });
    expect(layerInputFrom({ rotation: "daily", length_hours: "12" }, []).length_hours).toBeNull();
    const posted = { order: ["1", "0"], l0_delay: ["0"], l0_users: ["a"], l1_delay: ["5"], l1_channels: ["c"], l1_webhook: [" https://x.test "], intent: ["up:0"] };
    const drafts = draftsFrom(posted);
    expect(drafts.map((d) => d.delay)).toEqual(["5", "0"]);
    expect(drafts[0]!.webhook).toBe("https://x.test");
    expect(intentOf(posted)).toEqual({ kind: "up", index: 1 });
    expect(applyIntent(drafts, { kind: "up", index: 1 }).map((d) => d.delay)).toEqual(["0", "5"]);
    expect(applyIntent(drafts, { kind: "up", index: 0 }).map((d) => d.delay)).toEqual(["5", "0"]);
    expect(applyIntent([...drafts, emptyLevel(false), emptyLevel(false), emptyLevel(false)], { kind: "add" })).toHaveLength(5);
    const { input: policy, kept } = policyInputFrom({ name: ["P"] }, [...drafts, emptyLevel(false)]);
    expect(kept).toEqual([0, 1]);
    expect(policy.levels).toEqual([
      { delay_minutes: 5, targets: [{ type: "channel", channel_id: "c" }, { type: "webhook", url: "https://x.test" }] },
      { delay_minutes: 0, targets: [{ type: "user", user_id: "a" }] },
    ]);
  });

  test("preview lines say when, who, why and how", () => {
    const now = new Date("2026-10-20T08:00:00Z");
    const level = { level: 2, at: new Date("2026-10-20T08:15:00Z"), delay_minutes: 15, targets: [] };
    const t = { target: { type: "schedule" as const, id: "s" }, who: "dana", onCallFor: "Primary", skipped: null, message: "", via: [{ kind: "email", address: "d@x.test" }] };
    expect(previewLine(level, t, now)).toBe("level 2 in 15 min: dana (on call for Primary) via email");
    expect(previewLine({ ...level, at: now }, { ...t, who: "schedule Night", onCallFor: null, skipped: "nobody is on call (a gap in the schedule)", via: [] }, now)).toBe("level 2 now: schedule Night — not reached: nobody is on call (a gap in the schedule)");
  });
});
