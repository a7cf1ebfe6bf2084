// API keys for scripts and automation: "pulse_<prefix>_<secret>", scoped to
// one tenant and a role, shown once, stored as a hash, revocable, with the
// time of last use. Tenant-admins manage their tenant's keys.

import { timingSafeEqual } from "node:crypto";
import { recordAuditIn } from "../../audit/service.ts";
import type { Db } from "../../db/db.ts";
import { withSystem, withTenant } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { requirePermission, type Ctx, type TenantRole } from "../../lib/ctx.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import { randomSecret, sha256Hex } from "../../lib/ids.ts";
import { requireText } from "../../lib/validate.ts";
import type { Principal } from "../principal.ts";
import { requireRole } from "../users/service.ts";
import { findApiKeyByPrefix, insertApiKey, listApiKeys as listRows, revokeApiKey as revokeRow, touchApiKey, type ApiKeyRow } from "./store.ts";

export interface ApiKeyDeps {
  db: Db;
  clock: Clock;
}

export const KEY_PATTERN = /^pulse_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
// last_used_at is for people; once a minute is precise enough and keeps reads cheap.
const TOUCH_EVERY_MS = 60_000;

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: TenantRole;
  tenantId: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const toKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  role: r.role,
  tenantId: r.tenant_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** Create a key; the returned `secret` is the only time it is ever shown. */
export async function createApiKey(
  deps: ApiKeyDeps,
  ctx: Ctx,
  input: { name: unknown; role: unknown; expiresInDays?: unknown },
): Promise<{ key: ApiKey; secret: string }> {
  requirePermission(ctx, "admin", "create API keys");
  const name = requireText("name", input.name);
  const role = requireRole("role", input.role);
  let expiresAt: Date | null = null;
  if (input.expiresInDays !== undefined && input.expiresInDays !== null && input.expiresInDays !== "") {
    const days = Number(input.expiresInDays);
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw invalid("expires_in_days", "expires_in_days: a whole number of days from 1 to 3650");
    expiresAt = new Date(deps.clock.now().getTime() + days * 86_400_000);
  }
  const prefix = randomAlnum(12);
  const secretPart = randomSecret(32);
  const now = deps.clock.now();
  const row = await withTenant(deps.db, ctx, async (tx) => {
    const r = await insertApiKey(tx, { tenantId: ctx.tenantId, name, prefix, secretHash: sha256Hex(secretPart), role, createdBy: ctx.actor.kind === "user" ? ctx.actor.id : null, now, expiresAt });
    await recordAuditIn(tx, deps.clock, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "apikey.created",
      target: { kind: "apikey", id: r.id },
      ip: ctx.ip,
      requestId: ctx.requestId,
      details: { name, role, prefix },
    });
    return r;
  });
  return { key: toKey(row), secret: `pulse_${prefix}_${secretPart}` };
}

export async function listApiKeys(deps: ApiKeyDeps, ctx: Ctx): Promise<ApiKey[]> {
  requirePermission(ctx, "admin", "see API keys");
  return (await withTenant(deps.db, ctx, (tx) => listRows(tx))).map(toKey);
}

export async function revokeApiKey(deps: ApiKeyDeps, ctx: Ctx, id: string): Promise<ApiKey> {
  requirePermission(ctx, "admin", "revoke API keys");
  return withTenant(deps.db, ctx, async (tx) => {
    const row = await revokeRow(tx, id, deps.clock.now());
    if (!row) throw notFound(`API key ${id}`);
    await recordAuditIn(tx, deps.clock, { tenantId: ctx.tenantId, actor: ctx.actor, action: "apikey.revoked", target: { kind: "apikey", id }, ip: ctx.ip, requestId: ctx.requestId, details: { name: row.name } });
    return toKey(row);
  });
}

/** The principal behind a presented key, or undefined for anything not valid now. */
export async function authenticateApiKey(deps: ApiKeyDeps, presented: string): Promise<Principal | undefined> {
  const m = KEY_PATTERN.exec(presented);
  if (!m) return undefined;
  const now = deps.clock.now();
  const row = await withSystem(deps.db, (tx) => findApiKeyByPrefix(tx, m[1]!));
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now) || row.tenant_status !== "ACTIVE") return undefined;
  if (!timingSafeEqual(Buffer.from(sha256Hex(m[2]!)), Buffer.from(row.secret_hash))) return undefined;
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > TOUCH_EVERY_MS) await withSystem(deps.db, (tx) => touchApiKey(tx, row.id, now));
  return {
    kind: "apikey",
    id: row.id,
    name: row.name,
    displayName: `API key ${row.name}`,
    email: null,
    tenantId: row.tenant_id,
    tenantName: null,
    tenantRole: row.role,
    platformRole: null,
    mustChangePassword: false,
    via: "apikey",
  };
}

function randomAlnum(n: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) {
    if (b < 248 && out.length < n) out += alphabet[b % 62];
  }
  return out.length === n ? out : out + randomAlnum(n - out.length);
}
