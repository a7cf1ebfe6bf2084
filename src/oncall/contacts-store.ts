// SQL for people's contact methods (how each person in a tenant is paged).
import type { Severity } from "../alerts/evaluate.ts";
import type { Sql } from "../db/db.ts";
import type { PersonalKind } from "../notify/personal.ts";
import { isUuid } from "./store.ts";

export interface ContactMethodRow {
  id: string;
  tenant_id: string;
  user_id: string;
  kind: PersonalKind;
  address: string;
  secrets: string | null;
  min_severity: Severity;
  created_at: Date;
  updated_at: Date;
}

export async function insertContactMethod(sql: Sql, c: { tenantId: string; userId: string; kind: PersonalKind; address: string; secrets: string | null; minSeverity: Severity; now: Date }): Promise<ContactMethodRow> {
  const [row] = await sql.query<ContactMethodRow>(
    "insert into user_contact_methods (tenant_id, user_id, kind, address, secrets, min_severity, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $7) returning *",
    [c.tenantId, c.userId, c.kind, c.address, c.secrets, c.minSeverity, c.now],
  );
  return row!;
}

export async function updateContactMethod(sql: Sql, id: string, patch: { address: string; secrets: string | null; minSeverity: Severity }, now: Date): Promise<ContactMethodRow> {
  const [row] = await sql.query<ContactMethodRow>("update user_contact_methods set address = $2, secrets = $3, min_severity = $4, updated_at = $5 where id = $1 returning *", [id, patch.address, patch.secrets, patch.minSeverity, now]);
  return row!;
}

/** One of a user's methods (another person's is not found). */
export async function findContactMethod(sql: Sql, userId: string, id: string): Promise<ContactMethodRow | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await sql.query<ContactMethodRow>("select * from user_contact_methods where user_id = $1 and id = $2", [userId, id]);
  return row;
}

/** A person's methods in a tenant, oldest first. */
export async function listContactMethods(sql: Sql, tenantId: string, userId: string): Promise<ContactMethodRow[]> {
  return sql.query<ContactMethodRow>("select * from user_contact_methods where tenant_id = $1 and user_id = $2 order by created_at, id", [tenantId, userId]);
}

export async function deleteContactMethod(sql: Sql, id: string): Promise<void> {
  await sql.query("delete from user_contact_methods where id = $1", [id]);
}
