// The drizzle schema (src/db/schema.ts) mirrors migrations/*.sql: the SQL is
// the truth, and this suite proves the mirror agrees with a migrated database,
// table by table and column by column, and that typed queries work on both
// drivers inside the row-level security scopes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { eq, is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import * as schema from "../../src/db/schema.ts";
import { withSystem, withTenant } from "../../src/db/scope.ts";
import { dbKinds, freshDb, type TestDb } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

const drizzleTables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

// Spellings of one SQL type: drizzle writes some as aliases (varchar, serial), Postgres' format_type never does.
const ALIASES: Record<string, string> = {
  varchar: "character varying",
  char: "character",
  timestamptz: "timestamp with time zone",
  int: "integer",
  int2: "smallint",
  int4: "integer",
  int8: "bigint",
  serial: "integer",
  smallserial: "smallint",
  bigserial: "bigint",
  bool: "boolean",
  float4: "real",
  float8: "double precision",
  decimal: "numeric",
};

function normalizeType(t: string): string {
  return t
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/\s*\(\s*/g, "(")
    .replace(/\s*,\s*/g, ",")
    .replace(/\s*\)/g, ")")
    .trim()
    .replace(/^[a-z0-9]+/, (w) => ALIASES[w] ?? w);
}

interface ColumnShape {
  name: string;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function drizzleColumns(table: PgTable): ColumnShape[] {
  return getTableConfig(table)
    .columns.map((c) => ({ name: c.name, type: normalizeType(c.getSQLType()), notNull: c.notNull, hasDefault: c.hasDefault }))
    .sort(byName);
}

function drizzlePrimaryKey(table: PgTable): string[] {
  const config = getTableConfig(table);
  const single = config.columns.filter((c) => c.primary).map((c) => c.name);
  const composite = config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name));
  return [...single, ...composite].sort();
}

for (const kind of dbKinds()) {
  describe(`the drizzle schema against a migrated ${kind} database`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await freshDb(kind);
    });
    afterAll(() => t?.dispose());

    /** Tables of the public schema as the app sees them: partitions and the migrator's own table left out. */
    async function databaseTables(): Promise<string[]> {
      const rows = await t.db.query<{ name: string }>(`
        select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition and c.relname <> 'schema_migrations'
        order by 1`);
      return rows.map((r) => r.name);
    }

    async function databaseColumns(table: string): Promise<ColumnShape[]> {
      const rows = await t.db.query<{ name: string; type: string; not_null: boolean; has_default: boolean }>(
        `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
                a.atthasdef or a.attidentity <> '' or a.attgenerated <> '' as has_default
         from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped`,
        [table],
      );
      return rows.map((r) => ({ name: r.name, type: normalizeType(r.type), notNull: r.not_null, hasDefault: r.has_default })).sort(byName);
    }

    test("every table in the database has a drizzle table, and every drizzle table a database table", async () => {
      const mirrored = drizzleTables.map((tbl) => getTableConfig(tbl).name).sort();
      expect(mirrored).toEqual(await databaseTables());
    });

    test("each drizzle table has exactly the database's columns: names, types, nullability and defaults", async () => {
      for (const table of drizzleTables) {
        const name = getTableConfig(table).name;
        const inDatabase = await databaseColumns(name);
        // The table name rides along so a mismatch says where it is.
        expect({ table: name, columns: drizzleColumns(table) }).toEqual({ table: name, columns: inDatabase });
      }
    });

    test("primary keys and named indexes agree", async () => {
      for (const table of drizzleTables) {
        const config = getTableConfig(table);
        const pk = await t.db.query<{ name: string }>(
          `select a.attname as name from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
           where i.indrelid = $1::regclass and i.indisprimary order by 1`,
          [config.name],
        );
        expect({ table: config.name, primaryKey: drizzlePrimaryKey(table) }).toEqual({ table: config.name, primaryKey: pk.map((r) => r.name) });

        const indexes = await t.db.query<{ name: string; unique: boolean }>(
          "select c.relname as name, i.indisunique as unique from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = $1::regclass",
          [config.name],
        );
        for (const index of config.indexes) {
          const found = indexes.find((i) => i.name === index.config.name);
          expect({ table: config.name, index: index.config.name, unique: found?.unique }).toEqual({
            table: config.name,
            index: index.config.name,
            unique: index.config.unique ?? false,
          });
        }
      }
    });

    test("typed queries round-trip in the system scope: insert, select, defaults and dates", async () => {
      const acme = await withSystem(t.db, async (tx) => {
        await tx.orm.insert(schema.tenants).values({ id: "acme", name: "Acme Corp" });
        return (await tx.orm.select().from(schema.tenants).where(eq(schema.tenants.id, "acme")))[0];
      });
      expect(acme).toMatchObject({ id: "acme", name: "Acme Corp", status: "ACTIVE", timezone: "UTC", suspendedAt: null });
      expect(acme!.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(acme!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);

      // Outside any transaction too, for tables without row-level security.
      const [again] = await t.db.orm.select({ name: schema.tenants.name }).from(schema.tenants).where(eq(schema.tenants.id, "acme"));
      expect(again).toEqual({ name: "Acme Corp" });
    });

    test("jsonb and uuid columns come back typed", async () => {
      const { alice, setting } = await withSystem(t.db, async (tx) => {
        const [alice] = await tx.orm.insert(schema.users).values({ username: "alice" }).returning();
        await tx.orm.insert(schema.settings).values({ key: "ui", value: { theme: "dark", columns: [1, 2] } });
        const [setting] = await tx.orm.select().from(schema.settings).where(eq(schema.settings.key, "ui"));
        return { alice, setting };
      });
      expect(alice!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(alice!.mustChangePassword).toBe(false);
      expect(setting!.value).toEqual({ theme: "dark", columns: [1, 2] });
    });

    test("a transaction's drizzle runs inside that transaction: it rolls back with it and keeps its tenant scope", async () => {
      const failed = withSystem(t.db, async (tx) => {
        await tx.orm.insert(schema.tenants).values({ id: "initech", name: "Initech" });
        throw new Error("changed my mind");
      });
      await expect(failed).rejects.toThrow("changed my mind");
      expect(await withSystem(t.db, (tx) => tx.orm.select().from(schema.tenants).where(eq(schema.tenants.id, "initech")))).toEqual([]);

      await withSystem(t.db, (tx) => tx.orm.insert(schema.tenants).values({ id: "globex", name: "Globex" }));
      const now = new Date();
      await withSystem(t.db, (tx) =>
        tx.orm.insert(schema.telemetry).values([
          { time: now, tenantId: "acme", deviceId: "pump-1", metrics: { temp: 21.5 } },
          { time: now, tenantId: "globex", deviceId: "gx-1", metrics: { temp: 3 } },
        ]),
      );
      const seenByAcme = await withTenant(t.db, { tenantId: "acme" }, (tx) => tx.orm.select().from(schema.telemetry));
      expect(seenByAcme).toEqual([{ time: now, tenantId: "acme", deviceId: "pump-1", metrics: { temp: 21.5 } }]);
      const sneaky = withTenant(t.db, { tenantId: "acme" }, (tx) =>
        tx.orm.insert(schema.telemetry).values({ time: now, tenantId: "globex", deviceId: "gx-1", metrics: { temp: 99 } }),
      );
      // drizzle wraps the driver's error; the database's reason is its cause.
      const error = (await sneaky.catch((e: unknown) => e)) as Error;
      expect(String((error.cause as Error | undefined)?.message)).toMatch(/new row violates row-level security policy/);
    });
  });
}
