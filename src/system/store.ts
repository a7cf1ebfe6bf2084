// SQL for platform-wide facts: counts for `pulse status` and the settings table.
import type { Sql } from "../db/db.ts";

export interface Counts {
  tenants: number;
  users: number;
}

/** Platform counts; tenants and users are not tenant-scoped tables. */
export async function countAll(sql: Sql): Promise<Counts> {
  const [row] = await sql.query<Counts>(
    "select (select count(*) from tenants where status <> 'DELETED') as tenants, (select count(*) from users) as users",
  );
  return row ?? { tenants: 0, users: 0 };
}

export async function getSetting<T>(sql: Sql, key: string): Promise<T | undefined> {
  const [row] = await sql.query<{ value: T }>("select value from settings where key = $1", [key]);
  return row?.value;
}

/** Insert only if absent; returns whether this call set it (first start wins across nodes). */
export async function initSetting(sql: Sql, key: string, value: unknown): Promise<boolean> {
  const rows = await sql.query("insert into settings (key, value) values ($1, $2) on conflict (key) do nothing returning key", [key, JSON.stringify(value)]);
  return rows.length === 1;
}
