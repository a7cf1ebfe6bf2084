// CSV import, all or nothing: every row is checked and reported by line; one
// bad row and nothing at all is written; a good file creates every device
// with a token, returned once as a credentials CSV (and those tokens work
// for real ingest). RFC 4180 quoting, multipart upload and dry runs. And the
// figure that matters: 10,000 rows in a few seconds on both databases.

import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { parseCsv } from "../../src/devices/csv.ts";
import { importDevices } from "../../src/devices/import.ts";
import { updateTenantDetails } from "../../src/tenants/service.ts";
import type { Ctx } from "../../src/lib/ctx.ts";
import { platformAdmin, seedCast } from "../helpers/cast.ts";
import { dbKinds } from "../helpers/databases.ts";
import { startPulse, type TestPulse } from "../helpers/pulse.ts";
import { auditOf, castClients, countRows, ingest, type Clients } from "./fixtures.ts";

// Suites boot whole servers on a busy machine; hooks get the same room as tests.
setDefaultTimeout(120_000);

const HEADER = "device_id,name,site_id,tags,heartbeat_seconds,model,serial,lat,lng,parent_device_id";

describe("CSV parsing (RFC 4180)", () => {
  test("quotes hold commas, doubled quotes and line breaks; CRLF, LF and a BOM are fine; blank lines are skipped", () => {
    const text = '\ufeffa,b,c\r\n1,"x, ""y""\nz",\r\n\r\n"",last,"3"\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, cells: ["a", "b", "c"] },
      { line: 2, cells: ["1", 'x, "y"\nz', ""] },
      { line: 5, cells: ["", "last", "3"] },
    ]);
    expect(parseCsv("a,b")).toEqual([{ line: 1, cells: ["a", "b"] }]);
  });

  test("malformed quotes are refused naming the line", () => {
    expect(() => parseCsv('a\n"open\n')).toThrow("line 2: a quoted field is never closed");
    expect(() => parseCsv('a\nb"c\n')).toThrow("line 2: a quote inside an unquoted field");
    expect(() => parseCsv('a\n"b"c\n')).toThrow("line 2: text after a closing quote");
  });
});

describe("device import", () => {
  let pulse: TestPulse;
  let c: Clients;
  const post = (csv: string, query = "") => c.alice.post(`/api/v1/devices/import${query}`, csv, { "content-type": "text/csv" });

  beforeAll(async () => {
    pulse = await startPulse();
    c = await castClients(pulse.app, await seedCast(pulse.app));
    for (const id of ["lab-1", "lab-2"]) await c.alice.post("/api/v1/sites", { id });
    await c.alice.post("/api/v1/devices", { id: "existing-1", site_id: "lab-1" });
  });
  afterAll(() => pulse?.stop());

  test("one bad row: nothing is written, and the report names each bad line and its problems", async () => {
    const csv = [
      HEADER,
      'gw-1,"Gateway, north",lab-1,zone=cold;floor=2,60,GW-9,SN1,52.5,13.4,',
      "pump-1,Pump,lab-1,,,,,,,gw-1",
      "bad id!,x,lab-1,,,,,,,",
      "pump-1,dup,lab-2,,,,,,,",
      "existing-1,again,lab-1,,,,,,,",
      "ghost-site,x,lab-9,,,,,,,",
      "hb,x,lab-1,,3,,,,,",
      "pos,x,lab-1,,,,,95,13,",
      "half,x,lab-1,,,,,52,,",
      "orphan,x,lab-1,,,,,,,nobody",
      "loop-a,x,lab-1,,,,,,,loop-b",
      "loop-b,x,lab-1,,,,,,,loop-a",
      "short,lab-1",
      "tags,x,lab-1,bad key=1,,,,,,",
    ].join("\n");
    const res = await post(csv);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.created).toBe(0);
    expect(res.body).not.toHaveProperty("credentials_csv");
    const bad = Object.fromEntries(res.body.rows.filter((r: { ok: boolean }) => !r.ok).map((r: { line: number; errors: string[] }) => [r.line, r.errors]));
    expect(Object.keys(bad).map(Number)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(bad[4][0]).toStartWith("device_id: must be");
    expect(bad[5]).toEqual(["device_id: pump-1 is also on line 3"]);
    expect(bad[6]).toEqual(["device_id: device existing-1 already exists"]);
    expect(bad[7]).toEqual(["site_id: no site lab-9 in this tenant; create it first"]);
    expect(bad[8][0]).toStartWith("heartbeat_seconds:");
    expect(bad[9][0]).toStartWith("lat:");
    expect(bad[10][0]).toStartWith("lng:");
    expect(bad[11]).toEqual(["parent_device_id: no device nobody in this tenant or this file"]);
    expect(bad[12][0]).toContain("cycle");
    expect(bad[13][0]).toContain("cycle");
    expect(bad[14][0]).toBe("row: 2 columns where the header has 10");
    expect(bad[15][0]).toStartWith("tags:");
    expect(res.body.rows.slice(0, 2)).toEqual([
      { line: 2, device_id: "gw-1", ok: true, errors: [] },
      { line: 3, device_id: "pump-1", ok: true, errors: [] },
    ]);
    expect(await countRows(pulse.app, "devices", "acme")).toBe(1);
    expect(await countRows(pulse.app, "device_tokens", "acme")).toBe(1);
  });

  test("a good file: every device created with its token, returned once as CSV; the tokens work for real ingest", async () => {
    const csv = [HEADER, 'gw-1,"Gateway, ""north""",lab-1,zone=cold;floor=2,60,GW-9,SN1,52.5,13.4,', "pump-1,Pump,lab-2,,,,,,,gw-1", "pump-2,,lab-2,,,,SN3,,,gw-1"].join("\r\n") + "\r\n";
    const dry = await post(csv, "?dry_run=true");
    expect(dry.body).toMatchObject({ ok: true, dry_run: true, created: 0 });
    expect(dry.body).not.toHaveProperty("credentials_csv");
    expect(await countRows(pulse.app, "devices", "acme")).toBe(1);

    const res = await post(csv);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toMatchObject({ ok: true, dry_run: false, created: 3 });
    const creds = parseCsv(res.body.credentials_csv).map((r) => r.cells);
    expect(creds.map((r) => r[0])).toEqual(["device_id", "gw-1", "pump-1", "pump-2"]);
    expect((await c.alice.get("/api/v1/devices/gw-1")).body).toMatchObject({ name: 'Gateway, "north"', tags: { zone: "cold", floor: "2" }, heartbeat_seconds: 60, model: "GW-9", lat: 52.5, lng: 13.4, status: "ACTIVE" });
    expect((await c.alice.get("/api/v1/devices/pump-2")).body).toMatchObject({ name: "pump-2", serial: "SN3", parent_device_id: "gw-1" });
    for (const [id, token] of creds.slice(1)) expect((await ingest(pulse.url, "acme", id!, token!)).status).toBe(202);
    expect((await auditOf(pulse.app, "device.imported")).map((a) => [a.actor_name, a.details.count])).toEqual([["alice", 3]]);
    // The background connectivity sweep may already have noted pump-1 coming online (STATUS_CHANGED); the creation is what this checks.
    const events = (await c.alice.get("/api/v1/devices/pump-1/events")).body.items.filter((e: { kind: string }) => e.kind !== "STATUS_CHANGED");
    expect(events).toMatchObject([{ kind: "created", details: { via: "import", by: "alice" } }]);
    // Importing the same file again: every row already exists.
    const again = await post(csv);
    expect(again.body.rows.map((r: { errors: string[] }) => r.errors[0])).toEqual(["device_id: device gw-1 already exists", "device_id: device pump-1 already exists", "device_id: device pump-2 already exists"]);
  });

  test("a multipart upload works too; columns may come in any order; the header is required", async () => {
    const form = new FormData();
    form.append("file", new File(["site_id,device_id\nlab-1,upload-1\n"], "fleet.csv", { type: "text/csv" }));
    const res = await pulse.request("/api/v1/devices/import", { method: "POST", headers: { authorization: `Bearer ${c.alice.key}` }, body: form });
    expect(((await res.json()) as { created: number }).created).toBe(1);

    for (const [csv, message] of [
      ["upload-2,lab-1\n", "unknown column"],
      ["device_id,name\nx,y\n", "at least device_id and site_id"],
      ["", "empty"],
      [HEADER + "\n", "no rows"],
      ["device_id,site_id,device_id\nx,lab-1,x\n", "appears twice"],
      ['device_id,site_id\n"x,lab-1\n', "never closed"],
    ] as const) {
      const r = await post(csv);
      expect({ csv, status: r.status, field: r.body.error.field, hit: r.body.error.message.includes(message) }).toEqual({ csv, status: 400, field: "csv", hit: true });
    }
  });

  test("the device limit counts every row of the file", async () => {
    const live = (await c.alice.get("/api/v1/devices?status=ACTIVE")).body.total;
    await updateTenantDetails({ db: pulse.app.db, clock: pulse.app.clock }, platformAdmin, "acme", { deviceLimit: live + 2 });
    const res = await post(["device_id,site_id", "l-1,lab-1", "l-2,lab-1", "l-3,lab-1", "l-4,lab-1"].join("\n"));
    expect(res.body.ok).toBe(false);
    expect(res.body.rows.map((r: { ok: boolean }) => r.ok)).toEqual([true, true, false, false]);
    expect(res.body.rows[2].errors[0]).toStartWith("DEVICE_LIMIT:");
    expect((await post(["device_id,site_id", "l-1,lab-1", "l-2,lab-1"].join("\n"))).body.created).toBe(2);
    await updateTenantDetails({ db: pulse.app.db, clock: pulse.app.clock }, platformAdmin, "acme", { deviceLimit: null });
  });
});

for (const kind of dbKinds()) {
  describe(`importing 10,000 devices on ${kind}`, () => {
    let pulse: TestPulse;
    const ctx: Ctx = { tenantId: "acme", actor: { kind: "user", id: "alice", name: "alice" }, role: "tenant-admin" };

    beforeAll(async () => {
      pulse = await startPulse({ db: kind, listen: false });
      await seedCast(pulse.app);
    });
    afterAll(() => pulse?.stop());

    test("takes a few seconds, all in one transaction", async () => {
      const deps = { db: pulse.app.db, clock: pulse.app.clock };
      const lines = ["device_id,name,site_id,tags,heartbeat_seconds,model,serial,lat,lng,parent_device_id"];
      const sites = Array.from({ length: 20 }, (_, i) => `site-${i}`);
      for (const id of sites) await pulse.app.db.transaction(async (tx) => {
        await tx.query("select set_config('pulse.tenant_id', 'acme', true)");
        await tx.query("insert into sites (tenant_id, id, name) values ('acme', $1, $1)", [id]);
      });
      for (let i = 0; i < 10_000; i++) {
        const parent = i % 10 ? `dev-${i - (i % 10)}` : "";
        lines.push(`dev-${i},"Device ${i}, bay ${i % 40}",site-${i % 20},zone=z${i % 5};line=${i % 7},${i % 2 ? 60 : ""},M-${i % 3},SN-${i},52.${i % 100},13.${i % 100},${parent}`);
      }
      const csv = lines.join("\n") + "\n";

      let t = performance.now();
      const dry = await importDevices(deps, ctx, csv, { dryRun: true });
      const dryMs = performance.now() - t;
      expect(dry.ok).toBe(true);

      t = performance.now();
      const report = await importDevices(deps, ctx, csv);
      const ms = performance.now() - t;
      expect(report.created).toBe(10_000);
      console.log(`import on ${kind}: 10,000 rows checked in ${Math.round(dryMs)} ms (dry run), imported in ${Math.round(ms)} ms (${Math.round(10_000 / (ms / 1000))} rows/s)`);
      expect(ms).toBeLessThan(30_000);

      expect(await countRows(pulse.app, "devices", "acme")).toBe(10_000);
      expect(await countRows(pulse.app, "device_tokens", "acme")).toBe(10_000);
      expect(report.credentialsCsv!.split("\r\n").length).toBe(10_002);
    });
  });
}
