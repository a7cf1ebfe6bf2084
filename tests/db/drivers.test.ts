// Both drivers behind one interface: the same query returns the same shapes
// on embedded PGlite and on Postgres, bulk loads keep every byte, failed
// transactions leave nothing, and LISTEN/NOTIFY delivers.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Db } from "../../src/db/db.ts";
import { withSystem, withTenant } from "../../src/db/scope.ts";
import { dbKinds, freshDb, type TestDb } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

// Everything COPY's text format must escape, and then some.
const AWKWARD = [
  "tab\there",
  "line\nbreak",
  "carriage\r\nreturn",
  "back\\slash",
  "\\N", // the COPY spelling of null, as a real string
  "quote ' and \"double\"",
  "温度 🌡️ Ünïcødé",
  "",
];

for (const kind of dbKinds()) {
  describe(`the ${kind} driver`, () => {
    let t: TestDb;
    let db: Db;
    beforeAll(async () => {
      t = await freshDb(kind);
      db = t.db;
      await withSystem(db, (tx) => tx.query("insert into tenants (id, name) values ('acme', 'Acme Corp'), ('globex', 'Globex')"));
    });
    afterAll(() => t?.dispose());

    test("reports its kind", () => {
      expect(db.kind).toBe(kind);
    });

    test("counts come back as numbers, timestamps as Dates, jsonb as objects, nulls as null", async () => {
      const sent = new Date("2031-05-20T15:30:00.123Z");
      const [row] = await db.query<Record<string, unknown>>(
        "select (select count(*) from tenants) as n, 9007199254740991::int8 as big, $1::timestamptz as sent, now() as now, $2::jsonb as doc, null::text as nothing, 1.5::float8 as real, true as yes",
        [sent, '{"temp": 21.5, "on": true, "name": "pump", "tags": ["a", "b"], "none": null}'],
      );
      expect(row).toEqual({
        n: 2,
        big: 9007199254740991,
        sent,
        now: expect.any(Date),
        doc: { temp: 21.5, on: true, name: "pump", tags: ["a", "b"], none: null },
        nothing: null,
        real: 1.5,
        yes: true,
      });
    });

    test("a jsonb parameter may also be an object; it is encoded once", async () => {
      const [row] = await db.query<{ doc: unknown; kind: string }>("select $1::jsonb as doc, jsonb_typeof($1::jsonb) as kind", [{ temp: 21.5 }]);
      expect(row).toEqual({ doc: { temp: 21.5 }, kind: "object" });
    });

    test("a transaction returns its function's value", async () => {
      expect(await db.transaction(async (tx) => (await tx.query<{ one: number }>("select 1 as one"))[0]!.one)).toBe(1);
    });

    test("a transaction that throws is rolled back", async () => {
      const failing = withSystem(db, async (tx) => {
        await tx.query("insert into tenants (id, name) values ('initech', 'Initech')");
        await tx.query("update tenants set name = 'Renamed' where id = 'acme'");
        throw new Error("stop here");
      });
      await expect(failing).rejects.toThrow("stop here");
      expect(await db.query("select id, name from tenants order by id")).toEqual([
        { id: "acme", name: "Acme Corp" },
        { id: "globex", name: "Globex" },
      ]);
    });

    test("a failing statement rolls back the whole transaction, and the database stays usable", async () => {
      const failing = withSystem(db, async (tx) => {
        await tx.query("insert into tenants (id, name) values ('initech', 'Initech')");
        await tx.query("insert into tenants (id, name) values ('acme', 'Duplicate')");
      });
      await expect(failing).rejects.toThrow(/duplicate key/);
      expect(await db.query("select id from tenants where id = 'initech'")).toEqual([]);
      expect(await db.query("select 1 as ok")).toEqual([{ ok: 1 }]);
    });

    test("copyRows keeps tabs, newlines, backslashes, unicode and nulls intact", async () => {
      const rows = AWKWARD.map((name, i) => [`copy-${i}`, name, i % 2 === 0 ? null : `user${i}@example.com`]);
      await db.copyRows("users", ["username", "name", "email"], rows);
      const back = await db.query<{ username: string; name: string; email: string | null }>(
        "select username, name, email from users where username like 'copy-%' order by username",
      );
      expect(back.map((r) => [r.username, r.name, r.email])).toEqual(rows);
    });

    test("array parameters keep quotes, backslashes, commas and braces in text and JSON elements", async () => {
      const texts = [...AWKWARD, "a,b", "{braced}", "NULL"];
      const docs = AWKWARD.map((text, i) => ({ text, n: i }));
      const [row] = await db.query<{ texts: string[]; docs: unknown[]; nulls: number }>(
        "select $1::text[] as texts, $2::jsonb[] as docs, array_length(array_positions($3::int[], null), 1) as nulls",
        [texts, docs.map((d) => JSON.stringify(d)), [1, null, 3, null]],
      );
      expect(row).toEqual({ texts, docs, nulls: 2 });
    });

    test("copyRows into a table under row-level security follows the transaction's scope", async () => {
      const time = new Date("2031-05-20T15:30:00.5Z");
      const metrics = AWKWARD.map((text, i) => ({ text, n: i, ok: i % 2 === 0 }));
      await withSystem(db, (tx) =>
        tx.copyRows(
          "telemetry",
          ["time", "tenant_id", "device_id", "metrics"],
          metrics.map((m, i) => [time, i < 4 ? "acme" : "globex", `dev\t${i}`, i % 2 === 0 ? m : JSON.stringify(m)]),
        ),
      );
      const seenByAcme = await withTenant(db, { tenantId: "acme" }, (tx) =>
        tx.query<{ time: Date; device_id: string; metrics: unknown }>("select time, device_id, metrics from telemetry order by (metrics->>'n')::int"),
      );
      expect(seenByAcme).toEqual(metrics.slice(0, 4).map((m, i) => ({ time, device_id: `dev\t${i}`, metrics: m })));

      const foreign = withTenant(db, { tenantId: "acme" }, (tx) => tx.copyRows("telemetry", ["time", "tenant_id", "device_id", "metrics"], [[time, "globex", "x", {}]]));
      await expect(foreign).rejects.toThrow(/row-level security/);
    });

    test("copyRows of nothing does nothing, and big batches arrive whole", async () => {
      await db.copyRows("users", ["username"], []);
      const many = Array.from({ length: 5000 }, (_, i) => [`bulk-${String(i).padStart(5, "0")}`, `name ${i}`]);
      await db.copyRows("users", ["username", "name"], many);
      expect(await db.query("select count(*) as n, min(username) as first, max(username) as last from users where username like 'bulk-%'")).toEqual([
        { n: 5000, first: "bulk-00000", last: "bulk-04999" },
      ]);
    });

    test("LISTEN/NOTIFY delivers payloads until the listener stops", async () => {
      const received: string[] = [];
      const unlisten = await db.listen("pulse_test_events", (payload) => received.push(payload));
      await db.notify("pulse_test_events", '{"alert":"acme/pump-1","state":"FIRING ✓"}');
      await waitFor(() => received.length === 1);
      expect(received).toEqual(['{"alert":"acme/pump-1","state":"FIRING ✓"}']);

      await unlisten();
      await db.notify("pulse_test_events", "after unlisten");
      await Bun.sleep(150);
      expect(received).toHaveLength(1);
    });

    test("channel names are lower-case identifiers on both drivers", async () => {
      await expect(db.listen("Pulse.Events", () => {})).rejects.toThrow(/must be a lower-case identifier/);
      await expect(db.notify("live-feed", "x")).rejects.toThrow(/must be a lower-case identifier/);
    });

    test("a session is a connection of its own that keeps session state until released", async () => {
      const session = await db.session();
      try {
        await session.query("select set_config('application_name', 'pulse-session-test', false)");
        const [row] = await session.query<{ name: string }>("select current_setting('application_name') as name");
        expect(row!.name).toBe("pulse-session-test");
      } finally {
        await session.query("select set_config('application_name', 'pulse', false)");
        await session.release();
      }
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}
