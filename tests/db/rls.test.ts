// Row-level security, proven in SQL with the usual cast: tenant acme (alice
// the tenant-admin, bob a customer), tenant globex (carol), and oscar the
// platform operator. The app runs as pulse_app; each transaction states its
// scope, and a transaction that states none sees no tenant rows at all.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Db } from "../../src/db/db.ts";
import { maintainPartitions } from "../../src/db/partitions.ts";
import { asOwner, withCrossTenantRead, withSystem, withTenant } from "../../src/db/scope.ts";
import { dbKinds, freshDb, type TestDb } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

const acme = { tenantId: "acme" };
const globex = { tenantId: "globex" };

interface Membership {
  username: string;
  tenant_id: string;
  role: string;
}

const MEMBERSHIPS = `select u.username, m.tenant_id, m.role from tenant_memberships m join users u on u.id = m.user_id order by u.username`;
const DEVICES = "select tenant_id, device_id from telemetry order by tenant_id, device_id";

const alice = { username: "alice", tenant_id: "acme", role: "tenant-admin" };
const bob = { username: "bob", tenant_id: "acme", role: "customer" };
const carol = { username: "carol", tenant_id: "globex", role: "customer" };

for (const kind of dbKinds()) {
  describe(`row-level security on ${kind}`, () => {
    let t: TestDb;
    let db: Db;
    const userIds: Record<string, string> = {};

    beforeAll(async () => {
      t = await freshDb(kind);
      db = t.db;
      await withSystem(db, async (tx) => {
        await tx.query("insert into tenants (id, name) values ('acme', 'Acme Corp'), ('globex', 'Globex')");
        for (const [username, platformRole] of [["alice", null], ["bob", null], ["carol", null], ["oscar", "operator"]]) {
          const [row] = await tx.query<{ id: string }>("insert into users (username, platform_role) values ($1, $2) returning id", [username, platformRole]);
          userIds[username!] = row!.id;
        }
        await tx.query(
          "insert into tenant_memberships (tenant_id, user_id, role) values ('acme', $1, 'tenant-admin'), ('acme', $2, 'customer'), ('globex', $3, 'customer')",
          [userIds.alice, userIds.bob, userIds.carol],
        );
        await tx.query(
          "insert into telemetry (time, tenant_id, device_id, metrics) values (now(), 'acme', 'pump-1', '{\"temp\": 21}'), (now(), 'globex', 'gx-1', '{\"temp\": 4}')",
        );
      });
    });
    afterAll(() => t?.dispose());

    test("the app connects as pulse_app, which is no superuser and does not bypass row-level security", async () => {
      const [who] = await db.query<{ user: string; superuser: boolean; bypass: boolean }>(
        "select current_user as user, rolsuper as superuser, rolbypassrls as bypass from pg_roles where rolname = current_user",
      );
      expect(who).toEqual({ user: "pulse_app", superuser: false, bypass: false });
      // Forced, so even the owner is held.
      const forced = await db.query<{ relname: string }>(
        "select relname from pg_class where relname in ('tenant_memberships', 'telemetry') and relrowsecurity and relforcerowsecurity order by 1",
      );
      expect(forced.map((r) => r.relname)).toEqual(["telemetry", "tenant_memberships"]);
    });

    test("acme's scope sees acme's memberships only", async () => {
      expect(await withTenant(db, acme, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([alice, bob]);
      expect(await withTenant(db, globex, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([carol]);
    });

    test("acme's scope cannot write globex rows: inserts fail, updates and deletes find nothing, rows cannot be moved across", async () => {
      const insert = withTenant(db, acme, (tx) =>
        tx.query("insert into tenant_memberships (tenant_id, user_id, role) values ('globex', $1, 'tenant-admin')", [userIds.alice]),
      );
      await expect(insert).rejects.toThrow(/new row violates row-level security policy/);

      const changed = await withTenant(db, acme, async (tx) => [
        ...(await tx.query("update tenant_memberships set role = 'tenant-admin' where tenant_id = 'globex' returning user_id")),
        ...(await tx.query("delete from tenant_memberships where tenant_id = 'globex' returning user_id")),
      ]);
      expect(changed).toEqual([]);

      const move = withTenant(db, acme, (tx) => tx.query("update tenant_memberships set tenant_id = 'globex' where user_id = $1", [userIds.bob]));
      await expect(move).rejects.toThrow(/new row violates row-level security policy/);

      expect(await withSystem(db, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([alice, bob, carol]);
    });

    test("without a scope nothing is visible and nothing can be written, in or out of a transaction", async () => {
      expect(await db.query(MEMBERSHIPS)).toEqual([]);
      expect(await db.transaction((tx) => tx.query(MEMBERSHIPS))).toEqual([]);
      expect(await db.query(DEVICES)).toEqual([]);
      await expect(db.query("insert into tenant_memberships (tenant_id, user_id, role) values ('acme', $1, 'customer')", [userIds.oscar])).rejects.toThrow(
        /row-level security/,
      );
    });

    test("a scope ends with its transaction, also when the transaction fails", async () => {
      await withTenant(db, acme, (tx) => tx.query(MEMBERSHIPS));
      await expect(
        withSystem(db, async () => {
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      // Postgres hands the same pooled connections out again; PGlite has only one.
      for (let i = 0; i < 4; i++) expect(await db.query(MEMBERSHIPS)).toEqual([]);
    });

    test("withTenant refuses an empty tenant id instead of running unscoped", () => {
      expect(() => withTenant(db, { tenantId: "" }, (tx) => tx.query(MEMBERSHIPS))).toThrow("db: withTenant needs a tenant id");
    });

    test("the operators' cross-tenant read sees every tenant but cannot change anything", async () => {
      expect(await withCrossTenantRead(db, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([alice, bob, carol]);

      const changed = await withCrossTenantRead(db, async (tx) => [
        ...(await tx.query("update tenant_memberships set role = 'customer' returning user_id")),
        ...(await tx.query("delete from tenant_memberships returning user_id")),
      ]);
      expect(changed).toEqual([]);
      const insert = withCrossTenantRead(db, (tx) =>
        tx.query("insert into tenant_memberships (tenant_id, user_id, role) values ('globex', $1, 'customer')", [userIds.oscar]),
      );
      await expect(insert).rejects.toThrow(/new row violates row-level security policy/);

      expect(await withSystem(db, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([alice, bob, carol]);
    });

    test("system work sees and changes every tenant", async () => {
      const promoted = await withSystem(db, (tx) =>
        tx.query<{ user_id: string }>("update tenant_memberships set role = 'tenant-admin' where tenant_id = 'globex' returning user_id"),
      );
      expect(promoted).toEqual([{ user_id: userIds.carol! }]);
      await withSystem(db, (tx) => tx.query("update tenant_memberships set role = 'customer' where tenant_id = 'globex'"));
      expect(await withSystem(db, (tx) => tx.query<Membership>(MEMBERSHIPS))).toEqual([alice, bob, carol]);
    });

    test("telemetry, a partitioned table, is isolated the same way", async () => {
      expect(await withTenant(db, acme, (tx) => tx.query(DEVICES))).toEqual([{ tenant_id: "acme", device_id: "pump-1" }]);
      expect(await withTenant(db, globex, (tx) => tx.query(DEVICES))).toEqual([{ tenant_id: "globex", device_id: "gx-1" }]);
      expect(await withCrossTenantRead(db, (tx) => tx.query(DEVICES))).toHaveLength(2);
      expect(await withCrossTenantRead(db, (tx) => tx.query("delete from telemetry returning device_id"))).toEqual([]);

      const foreign = withTenant(db, acme, (tx) =>
        tx.query("insert into telemetry (time, tenant_id, device_id, metrics) values (now(), 'globex', 'gx-1', '{}')"),
      );
      await expect(foreign).rejects.toThrow(/new row violates row-level security policy/);
    });

    test("pulse_app cannot reach a partition directly, where the parent's policies would not apply", async () => {
      await expect(db.query("select count(*) from telemetry_default")).rejects.toThrow(/permission denied/);

      const { created } = await maintainPartitions(db, { now: new Date(), retentionDays: 2, aheadDays: 1 });
      expect(created.length).toBeGreaterThan(0);
      for (const partition of created) {
        await expect(withSystem(db, (tx) => tx.query(`select count(*) from ${partition}`))).rejects.toThrow(/permission denied/);
      }
      // Through the parent, the rows are where they were, and still scoped.
      expect(await withTenant(db, acme, (tx) => tx.query(DEVICES))).toEqual([{ tenant_id: "acme", device_id: "pump-1" }]);
    });

    test("only the owner scope may leave pulse_app, and it holds only for its transaction", async () => {
      const [inside] = await asOwner(db, (tx) => tx.query<{ user: string }>("select current_user as user"));
      expect(inside!.user).not.toBe("pulse_app");
      const [after] = await db.query<{ user: string }>("select current_user as user");
      expect(after!.user).toBe("pulse_app");
    });
  });
}
