// Native telemetry partitions (no TimescaleDB): one per UTC day, created from
// the oldest accepted day to a week ahead, dropped after retention, with the
// default partition catching everything else so that no insert ever fails.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Db } from "../../src/db/db.ts";
import { maintainPartitions } from "../../src/db/partitions.ts";
import { withSystem, withTenant } from "../../src/db/scope.ts";
import { dbKinds, freshDb, type TestDb } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

const DAY = 86_400_000;
// Mid-afternoon, so that "today" is plainly 2031-05-20 in UTC.
const NOW = new Date("2031-05-20T15:30:00Z");
const MIDNIGHT = Date.UTC(2031, 4, 20);

/** The partition of the day `offset` days from NOW's day. */
const day = (offset: number) => "telemetry_p" + new Date(MIDNIGHT + offset * DAY).toISOString().slice(0, 10).replaceAll("-", "");
const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => day(from + i));
const at = (offsetDays: number, ms = 0) => new Date(MIDNIGHT + offsetDays * DAY + ms);

async function partitions(db: Db): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    "select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'telemetry'::regclass",
  );
  return rows.map((r) => r.name).sort();
}

async function insertAt(db: Db, times: Date[]): Promise<void> {
  await withSystem(db, async (tx) => {
    for (const [i, time] of times.entries()) {
      await tx.query("insert into telemetry (time, tenant_id, device_id, metrics) values ($1, 'acme', $2, '{\"n\": 1}')", [time, `dev-${i}`]);
    }
  });
}

/** Where each row lives: its partition, by time. */
async function placement(db: Db): Promise<Array<{ time: Date; partition: string }>> {
  return withSystem(db, (tx) => tx.query("select time, tableoid::regclass::text as partition from telemetry order by time"));
}

for (const kind of dbKinds()) {
  describe(`telemetry partitions on ${kind}`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await freshDb(kind);
    });
    afterEach(() => t?.dispose());

    test("a new database has only the default partition", async () => {
      expect(await partitions(t.db)).toEqual(["telemetry_default"]);
    });

    test("creates a partition a day from 31 days back (the oldest accepted message) to 7 days ahead", async () => {
      const result = await maintainPartitions(t.db, { now: NOW, retentionDays: 90 });
      expect(result).toEqual({ created: days(-31, 7), dropped: [] });
      expect(await partitions(t.db)).toEqual(["telemetry_default", ...days(-31, 7)]);
    });

    test("with a retention shorter than 31 days, starts at the retention", async () => {
      const result = await maintainPartitions(t.db, { now: NOW, retentionDays: 3 });
      expect(result.created).toEqual(days(-3, 7));
    });

    test("running again changes nothing", async () => {
      await maintainPartitions(t.db, { now: NOW, retentionDays: 90 });
      expect(await maintainPartitions(t.db, { now: NOW, retentionDays: 90 })).toEqual({ created: [], dropped: [] });
      expect(await maintainPartitions(t.db, { now: new Date(NOW.getTime() + 3 * 3_600_000), retentionDays: 90 })).toEqual({ created: [], dropped: [] });
    });

    test("days past retention are dropped with their rows, and the days ahead are added", async () => {
      await maintainPartitions(t.db, { now: NOW, retentionDays: 3 });
      await insertAt(t.db, [at(-3, 1000), at(1, 1000), at(2, 1000), at(7, 1000)]);

      const later = new Date(NOW.getTime() + 5 * DAY);
      const result = await maintainPartitions(t.db, { now: later, retentionDays: 3 });
      // Five days later the retention window starts at day +2.
      expect(result).toEqual({ created: days(8, 12), dropped: days(-3, 1) });
      expect(await partitions(t.db)).toEqual(["telemetry_default", ...days(2, 12)]);
      expect((await placement(t.db)).map((r) => r.time)).toEqual([at(2, 1000), at(7, 1000)]);
    });

    test("rows that waited in the default partition move into their day's new partition; expired ones are deleted", async () => {
      await maintainPartitions(t.db, { now: NOW, retentionDays: 3 });
      await insertAt(t.db, [at(-10), at(10, 12 * 3_600_000)]);
      expect(await placement(t.db)).toEqual([
        { time: at(-10), partition: "telemetry_default" },
        { time: at(10, 12 * 3_600_000), partition: "telemetry_default" },
      ]);

      await maintainPartitions(t.db, { now: new Date(NOW.getTime() + 5 * DAY), retentionDays: 3 });
      expect(await placement(t.db)).toEqual([{ time: at(10, 12 * 3_600_000), partition: day(10) }]);
      // Moved by the system, still the tenant's row.
      expect(await withTenant(t.db, { tenantId: "acme" }, (tx) => tx.query("select device_id from telemetry"))).toEqual([{ device_id: "dev-1" }]);
    });

    test("an insert at any time succeeds, one at a time or as a batch, whatever partitions exist", async () => {
      const times = [
        new Date("2001-01-01T00:00:00Z"), // long expired
        at(-30), // the oldest a device may send
        at(-3), // the first partition's first instant
        NOW,
        new Date(NOW.getTime() + 60_000), // the newest a device may send
        at(8, -1), // the last instant of the last partition
        at(8), // just past it
        new Date("2100-01-01T00:00:00Z"),
      ];
      await insertAt(t.db, times); // before any partition exists
      expect(await placement(t.db)).toHaveLength(times.length);

      await maintainPartitions(t.db, { now: NOW, retentionDays: 3 });
      // Maintenance deleted what was past retention (2001 and 30 days back); now every time again.
      expect(await placement(t.db)).toHaveLength(times.length - 2);
      await insertAt(t.db, times);
      await withSystem(t.db, (tx) =>
        tx.copyRows(
          "telemetry",
          ["time", "tenant_id", "device_id", "metrics"],
          times.map((time) => [time, "acme", "batch", '{"n": 2}']),
        ),
      );

      const rows = await placement(t.db);
      expect(rows).toHaveLength(times.length * 3 - 2);
      const partitionOf = (time: Date) => new Set(rows.filter((r) => r.time.getTime() === time.getTime()).map((r) => r.partition));
      expect(partitionOf(NOW)).toEqual(new Set([day(0)]));
      expect(partitionOf(at(-3))).toEqual(new Set([day(-3)]));
      expect(partitionOf(at(8, -1))).toEqual(new Set([day(7)]));
      expect(partitionOf(at(8))).toEqual(new Set(["telemetry_default"]));
    });
  });
}
