// The migrator: the numbered files in migrations/ are applied in order, once
// each, each in its own transaction, recorded with a checksum; an edited file
// or a database from a newer Pulse is refused; two nodes starting together
// apply every file exactly once.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db/db.ts";
import { migrate, type MigrateResult } from "../../src/db/migrate.ts";
import { MIGRATIONS, type Migration } from "../../src/db/migrations.ts";
import { openDatabase } from "../../src/db/open.ts";
import { openPglite } from "../../src/db/pglite.ts";
import { openPostgres } from "../../src/db/postgres.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { databaseUrl, dbKinds, dropPostgresDatabase, freshDb, POSTGRES_URL, testConfig, type DbKind } from "../helpers/databases.ts";

// Opening a database (initdb, a template) can take longer than bun's 5 s on a
// busy machine, and the preload's setDefaultTimeout does not reach these hooks.
setDefaultTimeout(60_000);

const MIGRATIONS_DIR = join(import.meta.dir, "../../migrations");
const LAST = MIGRATIONS.at(-1)!;
const names = (ms: readonly Migration[]) => ms.map((m) => m.name);

/** A brand-new Postgres database, never migrated. */
async function createEmptyPostgresDatabase(): Promise<string> {
  const name = `pulse_t_${process.pid}_empty_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return name;
}

// initdb is the slow part of a new PGlite (seconds): do it once, start the rest from its dump.
let emptyPglite: Promise<Blob> | undefined;
async function dumpEmptyPglite(): Promise<Blob> {
  const db = await openPglite({});
  try {
    return await db.dump!();
  } finally {
    await db.close();
  }
}

/** An empty database connected as its owner, the role the migrator runs as. */
async function emptyOwnerDb(kind: DbKind): Promise<{ db: Db; dispose(): Promise<void> }> {
  if (kind === "pglite") {
    const db = await openPglite({ loadDataDir: await (emptyPglite ??= dumpEmptyPglite()) });
    return { db, dispose: () => db.close() };
  }
  const name = await createEmptyPostgresDatabase();
  const db = await openPostgres({ url: databaseUrl(name), poolMax: 2, statementTimeoutMs: 0 });
  return {
    db,
    dispose: async () => {
      await db.close();
      await dropPostgresDatabase(name);
    },
  };
}

async function recorded(db: Db): Promise<Array<{ version: number; name: string; checksum: string }>> {
  return db.query("select version, name, checksum from schema_migrations order by version");
}

describe("the migration list", () => {
  test("src/db/migrations.ts lists exactly the files in migrations/, in order, numbered without gaps", () => {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    expect(names(MIGRATIONS)).toEqual(files);
    MIGRATIONS.forEach((m, i) => {
      expect(m.version).toBe(i + 1);
      expect(m.name).toMatch(new RegExp(`^${String(i + 1).padStart(4, "0")}_[a-z0-9_]+\\.sql$`));
      expect(m.sql).toBe(readFileSync(join(MIGRATIONS_DIR, m.name), "utf8"));
    });
  });
});

for (const kind of dbKinds()) {
  describe(`migrations on ${kind}`, () => {
    let owner: { db: Db; dispose(): Promise<void> };
    let first: MigrateResult;

    beforeAll(async () => {
      owner = await emptyOwnerDb(kind);
      first = await migrate(owner.db, { timescale: false });
    });
    afterAll(() => owner?.dispose());

    test("a new database is brought to the last migration, every file recorded once with its checksum", async () => {
      expect(first).toEqual({ applied: names(MIGRATIONS), current: LAST.version });
      expect(await recorded(owner.db)).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, checksum: sha256Hex(m.sql) })));
    });

    test("migrating an up-to-date database applies nothing", async () => {
      expect(await migrate(owner.db, { timescale: false })).toEqual({ applied: [], current: LAST.version });
      expect(await recorded(owner.db)).toHaveLength(MIGRATIONS.length);
    });

    test("a migration edited after it was applied is refused, naming the file", async () => {
      const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: m.sql + "\n-- a later tweak\n" } : m));
      const attempt = migrate(owner.db, { timescale: false, migrations: edited });
      await expect(attempt).rejects.toThrow(/0001_init\.sql was changed after it was applied; migrations are append-only/);
      expect((await recorded(owner.db)).map((r) => r.checksum)).toEqual(MIGRATIONS.map((m) => sha256Hex(m.sql)));
    });

    test("a database migrated by a newer Pulse is refused", async () => {
      const next = LAST.version + 1;
      await owner.db.query("insert into schema_migrations (version, name, checksum) values ($1, $2, 'x')", [next, `${next}_from_the_future.sql`]);
      try {
        await expect(migrate(owner.db, { timescale: false })).rejects.toThrow(
          `the database is at migration ${next} but this Pulse knows only up to ${LAST.version}; run a newer Pulse`,
        );
      } finally {
        await owner.db.query("delete from schema_migrations where version = $1", [next]);
      }
    });

    test("a failing migration leaves nothing behind, and runs again once fixed", async () => {
      const scratch = await emptyOwnerDb(kind);
      try {
        const init = MIGRATIONS[0]!;
        const broken = {
          version: 2,
          name: "0002_widgets.sql",
          sql: "create table widgets (id int); insert into tenants (id, name) values ('acme', 'Acme'); select 1 / 0;",
        };
        await expect(migrate(scratch.db, { timescale: false, migrations: [init, broken] })).rejects.toThrow(/0002_widgets\.sql failed: division by zero/);

        const [state] = await scratch.db.query<{ widgets: string | null; tenants: number }>(
          "select to_regclass('widgets')::text as widgets, (select count(*) from tenants) as tenants",
        );
        expect(state).toEqual({ widgets: null, tenants: 0 });
        expect((await recorded(scratch.db)).map((r) => r.name)).toEqual([init.name]);

        const fixed = { ...broken, sql: "create table widgets (id int); insert into tenants (id, name) values ('acme', 'Acme');" };
        expect(await migrate(scratch.db, { timescale: false, migrations: [init, fixed] })).toEqual({ applied: ["0002_widgets.sql"], current: 2 });
      } finally {
        await scratch.dispose();
      }
    });

    test("the app, running as pulse_app, can read the migration record but not change it", async () => {
      const t = await freshDb(kind);
      try {
        expect(t.info.migrations.current).toBe(LAST.version);
        const [who] = await t.db.query<{ user: string }>("select current_user as user");
        expect(who!.user).toBe("pulse_app");
        expect((await recorded(t.db)).map((r) => r.name)).toEqual(names(MIGRATIONS));
        await expect(t.db.query("delete from schema_migrations")).rejects.toThrow(/permission denied/);
      } finally {
        await t.dispose();
      }
    });
  });
}

if (dbKinds().includes("postgres")) {
  describe("two nodes starting at once on a brand-new Postgres database", () => {
    test("both start, and each file is applied exactly once", async () => {
      const name = await createEmptyPostgresDatabase();
      const config = testConfig({ "database.url": databaseUrl(name) });
      try {
        const [a, b] = await Promise.all([openDatabase({ config, log: silentLogger() }), openDatabase({ config, log: silentLogger() })]);
        await Promise.all([a.db.close(), b.db.close()]);

        const appliedByA = a.info.migrations.applied;
        const appliedByB = b.info.migrations.applied;
        expect([...appliedByA, ...appliedByB].sort()).toEqual(names(MIGRATIONS));
        expect(a.info.migrations.current).toBe(LAST.version);
        expect(b.info.migrations.current).toBe(LAST.version);

        const check = await openPostgres({ url: databaseUrl(name), poolMax: 1, statementTimeoutMs: 0 });
        try {
          expect((await recorded(check)).map((r) => r.name)).toEqual(names(MIGRATIONS));
        } finally {
          await check.close();
        }
      } finally {
        await dropPostgresDatabase(name);
      }
    });
  });
}
