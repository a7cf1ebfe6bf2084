// The provisioning API's rules (PROTOCOL.md): factory tooling, holding the
// admin key, registers devices (PENDING, their site created on the fly) and
// gets one-time activation codes; a device trades its code for its provision
// token, which makes it ACTIVE. Every call is audited as "provisioning".

import { timingSafeEqual } from "node:crypto";
import { recordAudit } from "../audit/service.ts";
import type { Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import type { Caller } from "../lib/ctx.ts";
import { AppError, conflict, notFound } from "../lib/errors.ts";
import { randomSecret, sha256Hex } from "../lib/ids.ts";
import { requireSlug } from "../lib/validate.ts";
import { ensureSitesIn } from "../sites/service.ts";
import { tenantDeviceSettingsIn } from "../tenants/service.ts";
import { changed, notifyDeviceChange, PROVISIONING_ACTOR, recordDeviceChange, type DeviceDeps } from "./deps.ts";
import { insertDeviceIn } from "./service.ts";
import { findActivationCode, lockDevice, replaceActivationCode, revokeAllTokens, setDeviceStatus, useActivationCode } from "./store.ts";
import { issueTokenIn } from "./tokens.ts";
import { checkNewDevice } from "./validate.ts";

export interface ProvisioningDeps extends DeviceDeps {
  /** The configured admin key; empty means the API is off. */
  adminKey: string;
  /** Hours an activation code stays valid. */
  codeTtlHours: number;
}

/** Where a call came from, for the audit log. */
export interface CallMeta {
  ip?: string;
  requestId?: string;
}

const callerFor = (tenantId: string, meta: CallMeta): Caller => ({ actor: PROVISIONING_ACTOR, role: "tenant-admin", tenantId, ip: meta.ip, requestId: meta.requestId });

/** Whether the presented key is the admin key, compared in constant time (hashes, so lengths never leak). */
export function checkAdminKey(deps: Pick<ProvisioningDeps, "adminKey">, presented: string | undefined): boolean {
  if (!deps.adminKey || !presented) return false;
  return timingSafeEqual(Buffer.from(sha256Hex(presented), "hex"), Buffer.from(sha256Hex(deps.adminKey), "hex"));
}

async function tenantMustExist(tx: Sql, tenantId: string): Promise<void> {
  const t = await tenantDeviceSettingsIn(tx, tenantId);
  if (!t || t.status === "DELETED") throw notFound(`tenant ${tenantId}`);
}

async function newCodeIn(tx: Sql, deps: ProvisioningDeps, tenantId: string, deviceId: string): Promise<{ code: string; expiresAt: Date }> {
  const code = randomSecret(16);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + deps.codeTtlHours * 3_600_000);
  await replaceActivationCode(tx, { hash: sha256Hex(code), tenantId, deviceId, now, expiresAt });
  return { code, expiresAt };
}

/** Register a PENDING device for factory tooling (its site is created if unknown) and return a one-time activation code. */
export async function provisionDevice(
  deps: ProvisioningDeps,
  input: { tenant_id?: unknown; device_id?: unknown; site_id?: unknown },
  meta: CallMeta = {},
): Promise<{ deviceId: string; activationCode: string; expiresAt: Date }> {
  const tenantId = requireSlug("tenant_id", input.tenant_id);
  const f = checkNewDevice({ id: requireSlug("device_id", input.device_id), site_id: input.site_id });
  const caller = callerFor(tenantId, meta);
  const out = await withTenant(deps.db, { tenantId }, async (tx) => {
    await tenantMustExist(tx, tenantId);
    const created = await ensureSitesIn(tx, tenantId, [f.siteId], deps.clock.now());
    await insertDeviceIn(tx, deps, caller, tenantId, f, { status: "PENDING", via: "provisioning" }).catch((err: unknown) => {
      // This API calls the id device_id.
      throw err instanceof AppError && err.field === "id" ? new AppError(err.code, err.message, { field: "device_id" }) : err;
    });
    const { code, expiresAt } = await newCodeIn(tx, deps, tenantId, f.id);
    await recordDeviceChange(tx, deps, caller, { tenantId, deviceId: f.id, action: "device.activation_code_issued", details: { expires_at: expiresAt.toISOString(), site_created: created.length > 0 } });
    return { deviceId: f.id, activationCode: code, expiresAt };
  });
  changed(deps, tenantId, f.id);
  return out;
}

/** A fresh activation code for a device that is not decommissioned; earlier unused codes stop working. */
export async function issueActivationCode(deps: ProvisioningDeps, input: { tenant_id?: unknown; device_id?: unknown }, meta: CallMeta = {}): Promise<{ deviceId: string; activationCode: string; expiresAt: Date }> {
  const tenantId = requireSlug("tenant_id", input.tenant_id);
  const deviceId = requireSlug("device_id", input.device_id);
  return withTenant(deps.db, { tenantId }, async (tx) => {
    await tenantMustExist(tx, tenantId);
    const device = await lockDevice(tx, deviceId);
    if (!device) throw notFound(`device ${deviceId} in tenant ${tenantId}`);
    if (device.status === "REVOKED") throw conflict(`device ${deviceId} is decommissioned; recommission it first`, "device_id");
    const { code, expiresAt } = await newCodeIn(tx, deps, tenantId, deviceId);
    await recordDeviceChange(tx, deps, callerFor(tenantId, meta), { tenantId, deviceId, action: "device.activation_code_issued", details: { expires_at: expiresAt.toISOString() } });
    return { deviceId, activationCode: code, expiresAt };
  });
}

const refused = (message: string) => new AppError("unauthorized", message, { field: "activation_code" });

/**
 * A device trades its activation code for a provision token (once; the code
 * expires). A PENDING device becomes ACTIVE; an ACTIVE one is re-provisioned:
 * its earlier tokens are revoked.
 */
export async function activateDevice(
  deps: ProvisioningDeps,
  input: { tenant_id?: unknown; device_id?: unknown; activation_code?: unknown },
  meta: CallMeta = {},
): Promise<{ provisionToken: string }> {
  const tenantId = requireSlug("tenant_id", input.tenant_id);
  const deviceId = requireSlug("device_id", input.device_id);
  const code = input.activation_code;
  if (typeof code !== "string" || code.length === 0 || code.length > 200) throw refused("activation_code: missing or malformed");
  const now = deps.clock.now();
  const out = await withTenant(deps.db, { tenantId }, async (tx) => {
    const found = await findActivationCode(tx, sha256Hex(code), deviceId);
    if (!found) throw refused("activation_code: not valid for this device");
    if (found.used_at) throw refused("activation_code: already used; ask for a fresh one");
    if (found.expires_at <= now) throw refused("activation_code: expired; ask for a fresh one");
    const device = await lockDevice(tx, deviceId);
    if (!device || device.status === "REVOKED") throw refused("activation_code: not valid for this device");
    await useActivationCode(tx, found.code_hash, now);
    const replaced = device.status === "ACTIVE" ? await revokeAllTokens(tx, deviceId, now) : 0;
    if (device.status === "PENDING") await setDeviceStatus(tx, deviceId, { status: "ACTIVE", now });
    const issued = await issueTokenIn(tx, tenantId, deviceId, now);
    await notifyDeviceChange(tx, tenantId, deviceId);
    await recordDeviceChange(tx, deps, callerFor(tenantId, meta), {
      tenantId,
      deviceId,
      action: "device.activated",
      event: "activated",
      details: { token_id: issued.row.id, previous_status: device.status, tokens_revoked: replaced },
    });
    return { provisionToken: issued.token };
  });
  changed(deps, tenantId, deviceId);
  return out;
}

/** Audit a refused provisioning call (bad key, bad input, conflicts), without a tenant: the claimed one is unverified. */
export async function recordRefusal(deps: DeviceDeps, meta: CallMeta & { path: string; status: number; code: string; message: string; claimedTenant?: string }): Promise<void> {
  await recordAudit(deps, {
    tenantId: null,
    actor: PROVISIONING_ACTOR,
    action: "provisioning.refused",
    ip: meta.ip,
    requestId: meta.requestId,
    details: { path: meta.path, status: meta.status, code: meta.code, message: meta.message.slice(0, 300), claimed_tenant: meta.claimedTenant?.slice(0, 64) ?? null },
  });
}
