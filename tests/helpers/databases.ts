// Fresh, migrated databases for tests, fast:
// - PGlite: migrate once per test process, dump the data directory, and start
//   every test database from that dump (~0.4 s instead of ~4 s of initdb).
// - Postgres: migrate one template database per migration set, then
//   CREATE DATABASE … TEMPLATE it for each test (a file copy on the server).
// The Postgres server comes from PULSE_TEST_DATABASE_URL or 127.0.0.1:5432.

import postgres from "postgres";
import { mkdirSync } from "node:fs";
import { loadConfig, type Config, type LoadOptions } from "../../src/config.ts";
import type { Db } from "../../src/db/db.ts";
import { MIGRATIONS } from "../../src/db/migrations.ts";
import { openDatabase, type OpenedDb } from "../../src/db/open.ts";
import { openPglite } from "../../src/db/pglite.ts";
import { migrate } from "../../src/db/migrate.ts";
import { sha256Hex } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";

export type DbKind = "pglite" | "postgres";

export const POSTGRES_URL = process.env.PULSE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Which database kinds this run covers: both by default; PULSE_TEST_DB=pglite narrows it. */
export function dbKinds(): DbKind[] {
  const only = process.env.PULSE_TEST_DB;
  return only === "pglite" || only === "postgres" ? [only] : ["pglite", "postgres"];
}

let pgliteTemplate: Promise<Blob> | undefined;

async function makePgliteTemplate(): Promise<Blob> {
  const db = await openPglite({});
  await migrate(db, { timescale: false });
  const blob = await db.dump!();
  await db.close();
  return blob;
}

/** The URL of a database on the test server. */
export function databaseUrl(name: string): string {
  const u = new URL(POSTGRES_URL);
  u.pathname = "/" + name;
  return u.toString();
}

const templateName = () => "pulse_tmpl_" + sha256Hex(MIGRATIONS.map((m) => m.sql).join("\n")).slice(0, 12);
let postgresTemplate: Promise<string> | undefined;

async function makePostgresTemplate(): Promise<string> {
  const name = templateName();
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    // One test process at a time builds the template; others wait and reuse it.
    await admin`select pg_advisory_lock(7202611272)`;
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!exists) {
      await admin.unsafe(`create database ${name}_building`);
      const cfg = testConfig({ "database.url": databaseUrl(`${name}_building`) });
      const opened = await openDatabase({ config: cfg, log: silentLogger() });
      await opened.db.close();
      await admin.unsafe(`alter database ${name}_building rename to ${name}`);
    }
    await admin`select pg_advisory_unlock(7202611272)`;
  } finally {
    await admin.end();
  }
  return name;
}

/** A new, migrated, empty Postgres database; returns its name. */
export async function createPostgresDatabase(): Promise<string> {
  const template = await (postgresTemplate ??= makePostgresTemplate());
  const name = `pulse_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  return name;
}

export async function dropPostgresDatabase(name: string): Promise<void> {
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** Config for tests: free ports, no TLS listener, quiet logs, a temp data dir. */
export function testConfig(overrides: LoadOptions["overrides"] = {}): Config {
  return loadConfig({
    env: {},
    file: "/dev/null",
    overrides: {
      data_dir: tempDir(),
      "http.host": "127.0.0.1",
      "http.port": 0,
      "mqtt.host": "127.0.0.1",
      "mqtt.port": 0,
      "mqtt.tls_port": 0,
      "log.level": "warn",
      "bootstrap.admin_password": "operator-keys-for-the-test-rig",
      "security.secret_key": "test-secret-key-test-secret-key-test-secret",
      ...overrides,
    },
  });
}

export function tempDir(): string {
  const dir = `/tmp/pulse-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

export interface TestDb extends OpenedDb {
  kind: DbKind;
  config: Config;
  /** Close the database and drop it (Postgres). */
  dispose(): Promise<void>;
}

/** A fresh migrated database of the given kind, opened as the app opens it. */
export async function freshDb(kind: DbKind, overrides: LoadOptions["overrides"] = {}): Promise<TestDb> {
  if (kind === "pglite") {
    const config = testConfig(overrides);
    const template = await (pgliteTemplate ??= makePgliteTemplate());
    const opened = await openDatabase({ config, log: silentLogger(), pgliteTemplate: template, inMemory: true });
    return { ...opened, kind, config, dispose: () => opened.db.close() };
  }
  const name = await createPostgresDatabase();
  const config = testConfig({ ...overrides, "database.url": databaseUrl(name), "database.pool_max": 4 });
  const opened = await openDatabase({ config, log: silentLogger() });
  return {
    ...opened,
    kind,
    config,
    dispose: async () => {
      await opened.db.close();
      await dropPostgresDatabase(name);
    },
  };
}

export type { Db };
