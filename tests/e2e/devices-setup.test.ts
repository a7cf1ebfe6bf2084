// Setting a fleet up in Chromium: the provisioning wizard end to end, whose
// ready-made mosquitto_pub command is run for real against the server (and
// its curl command, through a stub that records its arguments, is replayed
// with fetch); the CSV import's preview flags a bad row in the browser before
// anything is sent, then a good file imports and offers the credentials CSV;
// sites are added, edited and (when empty) deleted; the quarantine shows a
// crafted bad message with its reason; the metric catalog edits a unit; and
// carol (globex) never sees any of acme's.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { createAlertRule } from "../../src/alerts/rules.ts";
import { createDevice, getDevice } from "../../src/devices/service.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { createSite } from "../../src/sites/service.ts";
import { latestValues } from "../../src/telemetry/service.ts";
import { PASSWORDS, seedCast } from "../helpers/cast.ts";
import { freePort, startPulse, type TestPulse } from "../helpers/pulse.ts";
import { screenshot, signIn, useBrowser } from "./browser.ts";
import { expectRejected } from "./identity-helpers.ts";

let pulse: TestPulse;
let acme: Ctx;
const deps = () => ({ db: pulse.app.db, clock: pulse.app.clock });

/** The words a shell command passes to `program`, recorded by a stand-in function instead of running it. */
async function argvOf(command: string, program: string): Promise<string[]> {
  const script = `${program}() { printf '%s\\0' "$@"; }\n${command}`;
  const proc = Bun.spawn(["bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  return out.split("\0").slice(0, -1);
}

beforeAll(async () => {
  const port = await freePort();
  pulse = await startPulse({ config: { "http.port": port, public_url: `http://127.0.0.1:${port}` } });
  const cast = await seedCast(pulse.app);
  acme = { tenantId: "acme", actor: { kind: "user", id: cast.alice.id, name: "alice" }, role: "tenant-admin" };
  const globex: Ctx = { tenantId: "globex", actor: { kind: "user", id: cast.carol.id, name: "carol" }, role: "tenant-admin" };
  await createSite(deps(), acme, { id: "plant-1", name: "Plant One", timezone: "Europe/Berlin" });
  await createSite(deps(), globex, { id: "globex-lab", name: "Globex lab" });
  const pump = await createDevice(deps(), acme, { id: "pump-1", name: "Pump one", site_id: "plant-1" });
  await createDevice(deps(), globex, { id: "gx-1", name: "Globex one", site_id: "globex-lab" });
  await createAlertRule(deps(), acme, { name: "Boilers too hot", metricName: "temp_c", operator: "GT", threshold: 90, severity: "CRITICAL", scope: { tags: { kind: "boiler" } } });
  await createAlertRule(deps(), acme, { name: "Plant 1 pumps", metricName: "pressure", operator: "LT", threshold: 1, severity: "MEDIUM", scope: { sites: ["plant-1"] } });
  const res = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/pump-1/telemetry`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Provision-Token": pump.token },
    body: JSON.stringify({ version: "1", metrics: { temp_c: 21.5, pressure: 2.5 } }),
  });
  expect(res.status).toBe(202);
}, 90_000);
afterAll(() => pulse?.stop(), 30_000);

const b = useBrowser(() => pulse.url);

describe("adding devices", () => {
  b.test("the wizard registers a device at a new site and shows credentials whose mosquitto_pub and curl commands work", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices");
    await Promise.all([page.waitForURL(/\/devices\/new$/), page.getByRole("link", { name: "Add device" }).click()]);
    await page.getByLabel("Device id").fill("boiler-7");
    await page.getByLabel("Name").fill("Boiler seven");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Next" }).click()]);
    expect(await page.locator("[data-wizard-step]").getAttribute("data-wizard-step")).toBe("2");
    await page.getByLabel("Site", { exact: true }).selectOption("__new__");
    await page.getByLabel("Site id").fill("basement");
    await page.getByLabel("Site name").fill("Basement");
    await page.getByLabel("Time zone").selectOption("Europe/Berlin");
    await page.getByLabel("Tags").fill("kind=boiler\nfloor=-1");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Next" }).click()]);
    // Which rules will watch it, by their scope.
    expect(await page.locator('tr[data-covers="yes"]').allInnerTexts()).toEqual([expect.stringContaining("Boilers too hot")]);
    expect(await page.locator('tr[data-covers="no"]').innerText()).toContain("Plant 1 pumps");
    await screenshot(page, "device-wizard-rules");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create device" }).click()]);
    expect(await page.locator("[data-created-device]").getAttribute("data-created-device")).toBe("boiler-7");
    const token = (await page.locator("#provision-token").innerText()).trim();
    const mqtt = (await page.locator("#mqtt-example").innerText()).trim();
    const curl = (await page.locator("#curl-example").innerText()).trim();
    expect(mqtt).toContain(`-h 127.0.0.1 -p ${pulse.mqttPort}`);
    expect(mqtt).toContain(`-u acme/boiler-7 -P ${token}`);
    expect(mqtt).toContain("-t tenant/acme/device/boiler-7/telemetry");
    expect(curl).toContain(`${pulse.url}/ingest/v1/tenant/acme/device/boiler-7/telemetry`);
    await screenshot(page, "device-wizard-credentials", { fullPage: true });

    // The mosquitto_pub command, exactly as shown, run for real.
    const proc = Bun.spawn(["bash", "-c", mqtt], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill(), 10_000);
    const code = await proc.exited;
    clearTimeout(timer);
    expect({ code, stderr: await new Response(proc.stderr).text() }).toEqual({ code: 0, stderr: "" });
    const latest = await latestValues({ db: pulse.app.db }, acme, "boiler-7");
    expect(latest.values.map((v) => [v.metric, v.value])).toEqual([
      ["battery_pct", 87],
      ["temp_c", 21.5],
    ]);

    // The curl command's words, replayed with fetch.
    const argv = await argvOf(curl, "curl");
    const at = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
    const url = argv.find((a) => a.startsWith("http"))!;
    const headers = Object.fromEntries(at("-H").map((h) => [h.slice(0, h.indexOf(":")), h.slice(h.indexOf(":") + 1).trim()]));
    const body = at("-d")[0]!;
    expect(JSON.parse(body)).toMatchObject({ version: "1", metrics: { temp_c: 21.5 } });
    expect(Math.abs(JSON.parse(body).ts - Date.now() / 1000)).toBeLessThan(30);
    const res = await fetch(url, { method: at("-X")[0], headers, body });
    expect(res.status).toBe(202);
    const device = await getDevice(deps(), acme, "boiler-7");
    expect({ site: device.siteId, tags: device.tags }).toEqual({ site: "basement", tags: { kind: "boiler", floor: "-1" } });
    expect(device.messages).toBe(2);
  });

  b.test("the CSV import previews every row in the browser, flags a bad one before sending, then imports a good file and offers the credentials once", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/devices/import");
    const bad = "device_id,name,site_id,heartbeat_seconds,lat,lng\nimp-1,Imported one,plant-1,60,,\nimp 2,Bad id,plant-1,60,,\nimp-3,Nowhere,atlantis,60,,\nimp-1,Twice,plant-1,abc,52.5,\n";
    await page.setInputFiles("#import-file", { name: "fleet.csv", mimeType: "text/csv", buffer: Buffer.from(bad) });
    await page.locator('[data-preview-result="problems"]').waitFor();
    expect(await page.locator("[data-csv-preview] tbody tr").count()).toBe(4);
    const problems = async (line: number) => page.locator(`[data-csv-preview] tr[data-line="${line}"]`).innerText();
    expect(await page.locator('[data-csv-preview] tr[data-line="2"]').getAttribute("data-row-ok")).toBe("yes");
    expect(await problems(3)).toContain("device_id: must be 1–64 characters");
    expect(await problems(4)).toContain("site_id: no site atlantis in this tenant");
    const fifth = await problems(5);
    expect(fifth).toContain("device_id: imp-1 is also on line 2");
    expect(fifth).toContain("heartbeat_seconds: a whole number of seconds");
    expect(fifth).toContain("lat and lng go together");
    expect(await page.locator("[data-import-button]").isDisabled()).toBe(true);
    await screenshot(page, "device-import-preview", { fullPage: true });

    const good = "device_id,name,site_id,tags\nimp-1,Imported one,plant-1,zone=cold\nimp-2,Imported two,plant-1,\nimp-3,,plant-1,zone=warm\n";
    await page.setInputFiles("#import-file", { name: "fleet.csv", mimeType: "text/csv", buffer: Buffer.from(good) });
    await page.locator('[data-preview-result="ok"]').waitFor();
    expect(await page.locator("[data-import-button]").isDisabled()).toBe(false);
    await Promise.all([page.waitForNavigation(), page.locator("[data-import-button]").click()]);
    expect(await page.locator("[data-import-result]").getAttribute("data-import-result")).toBe("imported");
    expect(await page.locator('tr[data-row-ok="yes"]').count()).toBe(3);
    await screenshot(page, "device-import-done");
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("[data-credentials-download]").click()]);
    expect(download.suggestedFilename()).toBe("fleet-credentials.csv");
    const creds = (await Bun.file((await download.path())!).text()).trim().split("\r\n");
    expect(creds.map((l) => l.split(",")[0])).toEqual(["device_id", "imp-1", "imp-2", "imp-3"]);
    expect((await getDevice(deps(), acme, "imp-3")).name).toBe("imp-3");

    // All or nothing: a file with one existing id (which only the server knows) writes none of its rows.
    await tab.goto("/devices/import");
    await page.setInputFiles("#import-file", { name: "again.csv", mimeType: "text/csv", buffer: Buffer.from("device_id,site_id\nimp-9,plant-1\nimp-1,plant-1\n") });
    await page.locator('[data-preview-result="ok"]').waitFor();
    await Promise.all([page.waitForNavigation(), page.locator("[data-import-button]").click()]);
    expect(await page.locator("[data-import-result]").getAttribute("data-import-result")).toBe("failed");
    expect(await page.locator('tr[data-line="3"]').innerText()).toContain("device_id: device imp-1 already exists");
    expect(await page.locator("[data-credentials-download]").count()).toBe(0);
    await expect(getDevice(deps(), acme, "imp-9")).rejects.toThrow("not found");
  });
});

describe("sites, quarantine and metrics", () => {
  b.test("sites: add one, edit it, delete is refused while devices use a site and works once empty", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/sites");
    await page.getByLabel("Site id").fill("depot-4");
    await page.getByLabel("Name").fill("Depot four");
    await page.getByLabel("Time zone").selectOption("Europe/Berlin");
    await page.getByLabel("Address").fill("Quay 4, Hamburg");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Add site" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("Site Depot four added.");
    const row = page.locator("tr", { hasText: "Depot four" });
    expect(await row.innerText()).toContain("Europe/Berlin");
    await Promise.all([page.waitForURL(/\/sites\/depot-4\/edit$/), row.getByRole("link", { name: "Edit" }).click()]);
    await page.getByLabel("Latitude").fill("53.54");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save" }).click()]);
    await expectRejected(tab, "/sites/depot-4");
    expect(await page.locator("#site-lng-err").innerText()).toBe("Lat and lng go together; give both or neither");
    await page.getByLabel("Longitude").fill("9.98");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("Site saved.");
    expect(await page.locator("tr", { hasText: "Depot four" }).innerText()).toContain("53.5400, 9.9800");

    const plant = page.locator("tr", { hasText: "Plant One" });
    expect(await plant.locator("[data-site-devices]").innerText()).toBe("4");
    await plant.locator("details.confirm > summary").click();
    expect(await plant.locator(".confirm-panel").innerText()).toContain("still has 4 devices");
    await Promise.all([page.waitForNavigation(), plant.getByRole("button", { name: "Delete plant-1" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("Site plant-1 still has 4 devices; move or remove them first");
    await screenshot(page, "sites");
    const depot = page.locator("tr", { hasText: "Depot four" });
    await depot.locator("details.confirm > summary").click();
    await Promise.all([page.waitForNavigation(), depot.getByRole("button", { name: "Delete depot-4" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("Site depot-4 deleted.");
    // A site's device count leads to its devices.
    await Promise.all([page.waitForURL(/\/devices\?site=plant-1$/), page.locator('[data-site-devices="plant-1"]').click()]);
  });

  b.test("the quarantine lists a crafted bad message with its reason, its payload escaped, and filters by reason in the URL", async (tab) => {
    const { page } = tab;
    const res = await fetch(`${pulse.url}/ingest/v1/tenant/acme/device/pump-1/telemetry`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Provision-Token": "not-the-token" },
      body: JSON.stringify({ version: "1", metrics: { note: "<img src=x onerror=alert(1)>" } }),
    });
    expect(res.status).toBe(401);
    await pulse.app.ingest.quarantine.flush();
    await signIn(tab, "alice", PASSWORDS.alice, "/quarantine");
    const row = page.locator("table[data-table='Refused messages'] tbody tr").first();
    expect(await row.locator("[data-reason]").getAttribute("data-reason")).toBe("TOKEN_INVALID");
    expect(await row.innerText()).toContain("pump-1");
    expect(await row.locator(".q-payload").innerText()).toContain("<img src=x onerror=alert(1)>");
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator('[data-kpi="rejected-TOKEN_INVALID"]').innerText()).toBe("1");
    expect(await page.locator(".q-legend").textContent()).toContain("The provision token was wrong, revoked or expired.");
    await page.locator("form.filters select[name=reason]").selectOption("TOKEN_INVALID");
    await Promise.all([page.waitForURL(/reason=TOKEN_INVALID/), page.getByRole("button", { name: "Apply" }).click()]);
    expect(await page.locator("table[data-table='Refused messages'] tbody tr").count()).toBe(1);
    await screenshot(page, "quarantine");
    await page.locator("form.filters select[name=reason]").selectOption("DEVICE_REVOKED");
    await Promise.all([page.waitForURL(/reason=DEVICE_REVOKED/), page.getByRole("button", { name: "Apply" }).click()]);
    expect(await page.locator("[data-empty]").innerText()).toContain("match these filters");
  });

  b.test("the metric catalog lists what devices sent and a tenant-admin edits a unit; a bad multiplier is named next to its field", async (tab) => {
    const { page } = tab;
    await signIn(tab, "alice", PASSWORDS.alice, "/metrics-catalog");
    expect(await page.locator("table[data-table=Metrics] tbody .device-name").allInnerTexts()).toEqual(expect.arrayContaining(["pressure", "temp_c", "battery_pct"]));
    const row = page.locator("tr", { hasText: "pressure" });
    await Promise.all([page.waitForURL(/\/metrics-catalog\/pressure\/edit$/), row.getByRole("link", { name: "Edit pressure" }).click()]);
    await page.locator("#metric-unit").fill("bar");
    await page.locator("#metric-display_name").fill("Line pressure");
    await page.locator("#metric-multiplier").fill("one hundred");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save" }).click()]);
    await expectRejected(tab, "/metrics-catalog/pressure");
    expect(await page.locator("#metric-multiplier-err").innerText()).toBe("A finite number");
    expect(await page.locator("#metric-unit").inputValue()).toBe("bar");
    await page.locator("#metric-multiplier").fill("100");
    await page.locator("#metric-normalized_unit").fill("kPa");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save" }).click()]);
    expect(await page.locator(".flash").innerText()).toBe("pressure saved.");
    const saved = page.locator("tr", { hasText: "Line pressure" });
    expect(await saved.innerText()).toContain("bar");
    expect(await saved.locator("[data-normalization]").innerText()).toBe("× 100 → kPa");
    await screenshot(page, "metrics");
    // The device page shows the unit and the normalized value.
    await tab.goto("/devices/pump-1");
    expect(await page.locator('[data-metric="pressure"]').innerText()).toMatch(/2\.5 bar[\s\S]*250 kPa/);
  });
});

describe("isolation and roles", () => {
  b.test("carol (globex) never sees acme's devices, sites, quarantine or metrics", async (tab) => {
    const { page } = tab;
    await signIn(tab, "carol", PASSWORDS.carol, "/devices");
    expect(await page.locator("table[data-table=Devices] tbody .device-name").allInnerTexts()).toEqual(["Globex one"]);
    for (const path of ["/sites", "/quarantine", "/metrics-catalog", "/devices?q=boiler"]) {
      await tab.goto(path);
      const text = await page.locator("main").innerText();
      for (const acme of ["pump-1", "boiler-7", "Plant One", "pressure", "imp-1"]) expect({ path, leaked: text.includes(acme) ? acme : null }).toEqual({ path, leaked: null });
    }
    await tab.goto("/devices/boiler-7", { status: 404 });
    await tab.goto("/devices/pump-1/tokens", { status: 404 });
  });

  b.test("bob (customer) sees sites and metrics but no admin actions", async (tab) => {
    const { page } = tab;
    await signIn(tab, "bob", PASSWORDS.bob, "/sites");
    expect(await page.locator("tr", { hasText: "Plant One" }).count()).toBe(1);
    expect(await page.getByRole("button", { name: "Add site" }).count()).toBe(0);
    expect(await page.locator("details.confirm").count()).toBe(0);
    await tab.goto("/metrics-catalog");
    expect(await page.getByRole("link", { name: /^Edit / }).count()).toBe(0);
    await tab.goto("/devices/new", { status: 403 });
    expect(await page.locator("main").innerText()).toContain("Only tenant-admins add devices");
  });
});
