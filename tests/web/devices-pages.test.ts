// The device-side pages over plain HTTP, as a browser without JavaScript
// sees them: every page renders with real data (devices made through the
// services, telemetry through real HTTP ingest); the wizard's steps carry
// their state in hidden fields and create the device at the end; the CSV
// import's dry run gives the report; forms need the session's CSRF token;
// bob (customer) reads but cannot act; carol (globex) never sees acme; oscar
// the operator reads the quarantine of every tenant.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createDevice, getDevice } from "../../src/devices/service.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { createSite } from "../../src/sites/service.ts";
import { signedIn, type Agent } from "../helpers/agent.ts";
import { PASSWORDS, platformAdmin, seedCast, type Cast } from "../helpers/cast.ts";
import { createTenant } from "../../src/tenants/service.ts";
import { createUser } from "../../src/auth/users/service.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";

async function post(a: Agent, path: string, fields: Record<string, string>, opts: { csrf?: boolean } = {}): Promise<Response> {
  const body = new URLSearchParams(fields);
  if (opts.csrf !== false) body.set("_csrf", await a.csrf());
  return a.fetch(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
}

async function upload(a: Agent, path: string, csv: string, fields: Record<string, string>): Promise<Response> {
  const form = new FormData();
  form.set("_csrf", await a.csrf());
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set("file", new File([csv], "fleet.csv", { type: "text/csv" }));
  return a.fetch(path, { method: "POST", body: form });
}

const flashOf = (res: Response) => {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("pulse_flash="));
  return cookie ? (JSON.parse(decodeURIComponent(decodeURIComponent(cookie.split(";")[0]!.slice("pulse_flash=".length)))) as { kind: string; text: string }) : undefined;
};

const text = async (res: Response) => {
  const body = await res.text();
  return body.replace(/<!-- -->/g, "");
};

async function ingest(url: string, tenant: string, device: string, token: string, body: Record<string, unknown>): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`${url}/ingest/v1/tenant/${tenant}/device/${device}/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Provision-Token": token },
    body: JSON.stringify({ version: "1", ...body }),
  });
  return { status: res.status, reason: ((await res.json().catch(() => ({}))) as { reason?: string }).reason };
}

describe("device pages without JavaScript", () => {
  let pulse: TestPulse;
  let cast: Cast;
  let alice: Agent;
  let bob: Agent;
  let carol: Agent;
  let oscar: Agent;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    pulse = await startPulse();
    cast = await seedCast(pulse.app);
    const deps = { db: pulse.app.db, clock: pulse.app.clock };
    const acme: Ctx = { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" };
    const globex: Ctx = { tenantId: "globex", actor: { kind: "user", id: cast.carol.id, name: "carol" }, role: "tenant-admin" };
    await createSite(deps, acme, { id: "plant-1", name: "Plant One", timezone: "Europe/Berlin" });
    await createSite(deps, acme, { id: "empty-yard", name: "Empty yard" });
    await createSite(deps, globex, { id: "globex-lab", name: "Globex lab" });
    tokens.pump1 = (await createDevice(deps, acme, { id: "pump-1", name: "Pump one", site_id: "plant-1", tags: { zone: "cold" } })).token;
    tokens.pump2 = (await createDevice(deps, acme, { id: "pump-2", name: "Pump two", site_id: "plant-1" })).token;
    tokens.gx = (await createDevice(deps, globex, { id: "globex-secret-pump", name: "Globex secret", site_id: "globex-lab" })).token;
    const now = Math.floor(Date.now() / 1000);
    for (let i = 10; i >= 0; i--) expect((await ingest(pulse.url, "acme", "pump-1", tokens.pump1!, { ts: now - i * 120, metrics: { temp_c: 20 + i / 2, battery_pct: 90 - i, mode: "cool" } })).status).toBe(202);
    expect((await ingest(pulse.url, "globex", "globex-secret-pump", tokens.gx!, { metrics: { globex_pressure: 3 } })).status).toBe(202);
    // A crafted bad message for each tenant's quarantine.
    expect((await ingest(pulse.url, "acme", "pump-2", "not-the-token", { metrics: { temp_c: 1 } })).reason).toBe("TOKEN_INVALID");
    expect((await ingest(pulse.url, "globex", "globex-secret-pump", "wrong-globex-token", { metrics: { x: 1 } })).reason).toBe("TOKEN_INVALID");
    await pulse.app.ingest.quarantine.flush();
    [alice, bob, carol, oscar] = await Promise.all([
      signedIn(pulse.url, "alice", PASSWORDS.alice),
      signedIn(pulse.url, "bob", PASSWORDS.bob),
      signedIn(pulse.url, "carol", PASSWORDS.carol),
      signedIn(pulse.url, "oscar", PASSWORDS.oscar),
    ]);
  }, 90_000);
  afterAll(() => pulse?.stop(), 30_000);

  test("every device-side page renders with real data", async () => {
    const pages: Array<[string, string[]]> = [
      ["/devices", ["Pump one", "pump-2", "plant-1", 'data-live="devices.status"']],
      ["/devices?selected=pump-1", ['data-device-pane="pump-1"', 'data-metric="temp_c"', "Open device"]],
      ["/devices/pump-1", ["Latest values", 'data-metric="battery_pct"', "zone", "Decommission", "<svg class=\"spark"]],
      ["/devices/pump-1/telemetry?range=1h", ['data-chart="telemetry-0"', 'data-range="6h"', "/api/v1/devices/pump-1/telemetry/export?"]],
      ["/devices/pump-1/events", ['data-event="created"']],
      ["/devices/pump-1/tokens", ["Rotate token", 'data-table="Tokens"']],
      ["/devices/pump-1/alerts", ["No alerts for this device"]],
      ["/devices/pump-1/edit", ['name="site_id"', "zone=cold"]],
      ["/devices/new", ['data-wizard-step="1"']],
      ["/devices/import", ["data-csv-preview-data", "plant-1"]],
      ["/sites", ["Plant One", 'data-site-devices="plant-1"', "Add a site"]],
      ["/quarantine", ["TOKEN_INVALID", "pump-2", "What the reasons mean"]],
      ["/metrics-catalog", ["temp_c", "battery_pct", "Edit"]],
    ];
    for (const [path, wants] of pages) {
      const res = await alice.fetch(path);
      const body = await text(res);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      for (const w of wants) expect({ path, has: body.includes(w) ? w : `missing: ${w}` }).toEqual({ path, has: w });
    }
  });

  test("a tenant without devices gets the empty state that says what to do next", async () => {
    const deps = { db: pulse.app.db, clock: pulse.app.clock };
    await createTenant(deps, platformAdmin, { id: "initech", name: "Initech" });
    await createUser(deps, platformAdmin, { username: "dana", email: "dana@initech.test", name: "Dana", password: PASSWORDS.carol, tenant: { id: "initech", role: "tenant-admin" } });
    const dana = await signedIn(pulse.url, "dana", PASSWORDS.carol);
    const page = await text(await dana.fetch("/devices"));
    expect(page).toContain("No devices yet");
    expect(page).toContain("Add one, import a CSV, or run <code>pulse simulate</code>");
    expect(page).toMatch(/<a class="btn btn-primary" href="\/devices\/new">Add a device<\/a>/);
    expect(page).toContain('href="/devices/import">Import a CSV</a>');
    expect(await text(await dana.fetch("/sites"))).toContain("No sites yet");
    expect(await text(await dana.fetch("/quarantine"))).toContain("Nothing refused");
    expect(await text(await dana.fetch("/metrics-catalog"))).toContain("No metrics yet");
  });

  test("the list filters by connectivity, site, tag and text through the URL, and keeps them in its links", async () => {
    const body = await text(await alice.fetch("/devices?tag=zone%3Dcold&site=plant-1&sort=last_seen_at&dir=desc"));
    expect(body).toContain("Pump one");
    expect(body).not.toContain(">Pump two<");
    // The row selects the device and keeps the filters.
    expect(body).toMatch(/href="\/devices\?tag=zone%3Dcold&amp;site=plant-1&amp;sort=last_seen_at&amp;dir=desc&amp;selected=pump-1"/);
    const none = await text(await alice.fetch("/devices?q=nothing-like-this"));
    expect(none).toContain("No devices match these filters");
  });

  test("the wizard carries its state in hidden fields and creates the device with a new site at the end", async () => {
    let res = await post(alice, "/devices/new", { go: "2", id: "bad id!", name: "" });
    expect(res.status).toBe(400);
    expect(await text(res)).toMatch(/id="wiz-id-err"[^>]*>Must be 1–64 characters/);
    res = await post(alice, "/devices/new", { go: "2", id: "pump-1", name: "" });
    expect(await text(res)).toMatch(/id="wiz-id-err"[^>]*>A device pump-1 already exists/);

    res = await post(alice, "/devices/new", { go: "2", id: "valve-9", name: "Valve nine" });
    expect(res.status).toBe(200);
    let page = await text(res);
    expect(page).toContain('data-wizard-step="2"');
    expect(page).toContain('<input type="hidden" name="id" value="valve-9"/>');
    res = await post(alice, "/devices/new", { go: "3", id: "valve-9", name: "Valve nine", site_id: "__new__", new_site_id: "yard-9", new_site_name: "Yard nine", new_site_timezone: "Europe/Berlin", tags: "zone=cold\nline=3" });
    page = await text(res);
    expect(page).toContain('data-wizard-step="3"');
    expect(page).toContain('name="tags" value="zone=cold\nline=3"');
    // Going back keeps what was typed.
    res = await post(alice, "/devices/new", { back: "2", id: "valve-9", name: "Valve nine", site_id: "__new__", new_site_id: "yard-9", new_site_name: "Yard nine", new_site_timezone: "Europe/Berlin", tags: "zone=cold" });
    expect(await text(res)).toContain('value="yard-9"');
    res = await post(alice, "/devices/new", { go: "4", id: "valve-9", name: "Valve nine", site_id: "__new__", new_site_id: "yard-9", new_site_name: "Yard nine", new_site_timezone: "Europe/Berlin", tags: "zone=cold\nline=3" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    page = await text(res);
    expect(page).toContain('data-created-device="valve-9"');
    const token = /id="provision-token"[^>]*>([A-Za-z0-9_-]{43})</.exec(page)![1]!;
    expect(page).toContain(`-P ${token}`);
    expect(page).toContain(`X-Provision-Token: ${token}`);
    const ctx: Ctx = { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" };
    const d = await getDevice({ db: pulse.app.db, clock: pulse.app.clock }, ctx, "valve-9");
    expect({ site: d.siteId, tags: d.tags, status: d.status }).toEqual({ site: "yard-9", tags: { zone: "cold", line: "3" }, status: "ACTIVE" });
    expect((await ingest(pulse.url, "acme", "valve-9", token, { metrics: { open_pct: 40 } })).status).toBe(202);
    // The device page never shows it again.
    expect(await text(await alice.fetch("/devices/valve-9/tokens"))).not.toContain(token);
  });

  test("the CSV import: the dry run reports every bad row and writes nothing; a good file imports all and offers the credentials once", async () => {
    const bad = "device_id,site_id,heartbeat_seconds\r\nimp-1,plant-1,60\r\nimp 2,plant-1,60\r\nimp-3,nowhere,60\r\nimp-4,plant-1,3\r\nimp-1,plant-1,\r\n";
    let res = await upload(alice, "/devices/import", bad, { mode: "check" });
    let page = await text(res);
    expect(res.status).toBe(200);
    expect(page).toContain('data-import-result="failed"');
    expect(page).toMatch(/data-line="3" data-row-ok="no"/);
    expect(page).toContain("site_id: no site nowhere in this tenant");
    expect(page).toContain("heartbeat_seconds: a whole number of seconds from 5 to 86400");
    expect(page).toContain("device_id: imp-1 is also on line 2");
    expect(page).toContain("data-report-download");
    res = await upload(alice, "/devices/import", bad, { mode: "import" });
    expect(await text(res)).toContain("nothing was imported");
    expect((await text(await alice.fetch("/devices?q=imp-"))).includes("No devices match")).toBe(true);

    const good = "device_id,name,site_id,tags\r\nimp-1,Imported one,plant-1,zone=warm\r\nimp-2,,plant-1,\r\n";
    res = await upload(alice, "/devices/import", good, { mode: "check" });
    expect(await text(res)).toContain('data-import-result="checked"');
    res = await upload(alice, "/devices/import", good, { mode: "import" });
    expect(res.headers.get("cache-control")).toBe("no-store");
    page = await text(res);
    expect(page).toContain('data-import-result="imported"');
    const href = /href="data:text\/csv;charset=utf-8;base64,([^"]+)"[^>]*download="fleet-credentials.csv"/.exec(page)![1]!;
    const creds = Buffer.from(href, "base64").toString("utf8").trim().split("\r\n");
    expect(creds[0]).toBe("device_id,provision_token");
    const [id, token] = creds[1]!.split(",");
    expect(id).toBe("imp-1");
    expect((await ingest(pulse.url, "acme", "imp-1", token!, { metrics: { temp_c: 3 } })).status).toBe(202);
  });

  test("forms without the session's CSRF token are refused and change nothing", async () => {
    const res = await post(alice, "/devices/pump-2/decommission", { reason: "forged" }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await text(await alice.fetch("/devices/pump-2"))).toContain('data-device-status="ACTIVE"');
  });

  test("bob (customer) reads devices but gets no admin actions, and a forged action is refused", async () => {
    const page = await text(await bob.fetch("/devices/pump-1"));
    expect(page).toContain("Pump one");
    expect(page).not.toContain("Decommission");
    expect(page).not.toContain(">Edit<");
    expect(await text(await bob.fetch("/devices/pump-1/tokens"))).not.toContain("Rotate token");
    expect(await text(await bob.fetch("/devices"))).not.toContain('href="/devices/new"');
    expect((await bob.fetch("/devices/new")).status).toBe(403);
    expect((await bob.fetch("/devices/import")).status).toBe(403);
    expect(await text(await bob.fetch("/sites"))).not.toContain("Add a site");
    const res = await post(bob, "/devices/pump-1/decommission", { reason: "bob tries" });
    expect(res.status).toBe(303);
    expect(flashOf(res)).toEqual({ kind: "error", text: "Your role (customer) may not decommission devices" });
    expect(await text(await alice.fetch("/devices/pump-1"))).toContain('data-device-status="ACTIVE"');
    expect((await post(bob, "/metrics-catalog/temp_c", { unit: "K" })).status).toBe(403);
  });

  test("carol (globex) never sees acme's devices, sites, quarantine or metrics", async () => {
    expect((await carol.fetch("/devices/pump-1")).status).toBe(404);
    expect((await carol.fetch("/devices/pump-1/telemetry")).status).toBe(404);
    expect((await carol.fetch("/sites/plant-1/edit")).status).toBe(404);
    for (const path of ["/devices", "/devices?q=pump", "/sites", "/quarantine", "/metrics-catalog", "/devices/import"]) {
      const page = await text(await carol.fetch(path));
      for (const acme of ["pump-1", "Pump one", "plant-1", "battery_pct", "temp_c"]) expect({ path, leaked: page.includes(acme) ? acme : null }).toEqual({ path, leaked: null });
    }
    expect(await text(await carol.fetch("/devices"))).toContain("Globex secret");
    expect(await text(await carol.fetch("/quarantine"))).toContain("globex-secret-pump");
    // Her POSTs at acme's ids find nothing.
    const res = await post(carol, "/devices/pump-1/decommission", { reason: "hostile" });
    expect(flashOf(res)?.kind).toBe("error");
    expect(await text(await alice.fetch("/devices/pump-1"))).toContain('data-device-status="ACTIVE"');
  });

  test("oscar (operator, no tenant) reads the quarantine of every tenant with a tenant column; device pages ask for a tenant", async () => {
    const page = await text(await oscar.fetch("/quarantine"));
    expect(page).toContain("<th scope=\"col\">Tenant</th>");
    expect(page).toContain("Acme Corp");
    expect(page).toContain("Globex");
    expect(page).toContain("globex-secret-pump");
    const narrowed = await text(await oscar.fetch("/quarantine?tenant=globex"));
    expect(narrowed).not.toContain(">pump-2<");
    expect(await text(await oscar.fetch("/devices"))).toContain("Choose a tenant first");
  });

  test("decommissioning asks once, then ingest refuses the device with DEVICE_REVOKED; recommissioning shows a new token once", async () => {
    const detail = await text(await alice.fetch("/devices/pump-2"));
    expect(detail).toContain("revokes its tokens, refuses its messages with <code>DEVICE_REVOKED</code>, and keeps its history");
    let res = await post(alice, "/devices/pump-2/decommission", { reason: "replaced by pump-3" });
    expect(res.status).toBe(303);
    expect(flashOf(res)?.text).toContain("is decommissioned");
    expect((await ingest(pulse.url, "acme", "pump-2", tokens.pump2!, { metrics: { temp_c: 1 } })).reason).toBe("DEVICE_REVOKED");
    const page = await text(await alice.fetch("/devices/pump-2"));
    expect(page).toContain("replaced by pump-3");
    expect(await text(await alice.fetch("/devices/pump-2/events"))).toContain('data-event="decommissioned"');

    res = await post(alice, "/devices/pump-2/recommission", {});
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const token = /id="provision-token"[^>]*>([A-Za-z0-9_-]{43})</.exec(await text(res))![1]!;
    expect((await ingest(pulse.url, "acme", "pump-2", token, { metrics: { temp_c: 2 } })).status).toBe(202);
  });

  test("sites: create with errors next to the field, edit, and delete refused while devices use the site", async () => {
    let res = await post(alice, "/sites", { id: "bad site", name: "", timezone: "UTC" });
    expect(res.status).toBe(400);
    expect(await text(res)).toMatch(/id="site-id-err"[^>]*>Must be 1–64 characters/);
    res = await post(alice, "/sites", { id: "depot-4", name: "Depot four", timezone: "Europe/Berlin", lat: "52.5", lng: "" });
    expect(res.status).toBe(400);
    expect(await text(res)).toMatch(/id="site-lng-err"[^>]*>Lat and lng go together/);
    res = await post(alice, "/sites", { id: "depot-4", name: "Depot four", timezone: "Europe/Berlin", lat: "", lng: "", address: "Quay 4" });
    expect(flashOf(res)).toEqual({ kind: "ok", text: "Site Depot four added." });
    res = await post(alice, "/sites/depot-4", { name: "Depot 4", timezone: "UTC", lat: "53.5", lng: "9.9", address: "" });
    expect(flashOf(res)?.kind).toBe("ok");
    expect(await text(await alice.fetch("/sites"))).toContain("Depot 4");
    res = await post(alice, "/sites/plant-1/delete", {});
    expect(flashOf(res)).toEqual({ kind: "error", text: expect.stringMatching(/^Site plant-1 still has \d+ devices; move or remove them first$/) });
    res = await post(alice, "/sites/depot-4/delete", {});
    expect(flashOf(res)).toEqual({ kind: "ok", text: "Site depot-4 deleted." });
  });

  test("metrics: a bad multiplier is named next to its field; a unit is saved", async () => {
    let res = await post(alice, "/metrics-catalog/mode", { unit: "", display_name: "Mode", multiplier: "2", offset: "", normalized_unit: "" });
    expect(res.status).toBe(400);
    expect(await text(res)).toMatch(/only numeric metrics can be normalized/i);
    res = await post(alice, "/metrics-catalog/temp_c", { unit: "°C", display_name: "Temperature", multiplier: "zero", offset: "", normalized_unit: "" });
    expect(res.status).toBe(400);
    expect(await text(res)).toMatch(/id="metric-multiplier-err"[^>]*>A finite number/);
    res = await post(alice, "/metrics-catalog/temp_c", { unit: "°C", display_name: "Temperature", multiplier: "1.8", offset: "32", normalized_unit: "°F" });
    expect(flashOf(res)).toEqual({ kind: "ok", text: "temp_c saved." });
    const list = await text(await alice.fetch("/metrics-catalog"));
    expect(list).toContain("Temperature");
    expect(list).toContain("× 1.8 + 32");
    const overview = await text(await alice.fetch("/devices/pump-1"));
    expect(overview).toMatch(/data-metric="temp_c"[\s\S]*?°C[\s\S]*?°F/);
  });
});
