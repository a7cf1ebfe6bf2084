// Provision tokens: 256 random bits, shown once, stored as sha256 hex (the
// hash src/ingest/registry.ts matchToken compares). Rotation may let the old
// token live on for an overlap, so a fleet can be updated without a gap;
// without one the old token stops at once.

import type { Sql } from "../db/db.ts";
import { withTenant } from "../db/scope.ts";
import { requirePermission, type Ctx } from "../lib/ctx.ts";
import { conflict, invalid, notFound } from "../lib/errors.ts";
import { randomSecret, sha256Hex } from "../lib/ids.ts";
import { changed, notifyDeviceChange, recordDeviceChange, type DeviceDeps } from "./deps.ts";
import { existingDeviceIds, expireTokens, insertToken, listTokens, lockDevice, revokeAllTokens, revokeToken, type TokenRow } from "./store.ts";

/** Longest overlap a rotation allows: 30 days. */
export const MAX_OVERLAP_SECONDS = 30 * 86_400;

export interface DeviceToken {
  id: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  /** Valid now: not revoked, not expired. */
  active: boolean;
}

export const toToken = (r: TokenRow, now: Date): DeviceToken => ({
  id: r.id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  active: !r.revoked_at && (!r.expires_at || r.expires_at > now),
});

/** A fresh token and the hash that is stored. */
export function newProvisionToken(): { token: string; hash: string } {
  const token = randomSecret(32);
  return { token, hash: sha256Hex(token) };
}

/** Issue a token for a device inside the caller's transaction; the secret is returned once. */
export async function issueTokenIn(tx: Sql, tenantId: string, deviceId: string, now: Date): Promise<{ row: TokenRow; token: string }> {
  const { token, hash } = newProvisionToken();
  return { row: await insertToken(tx, { tenantId, deviceId, hash, now }), token };
}

function overlapOf(v: unknown): number {
  if (v === undefined || v === null || v === "") return 0;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_OVERLAP_SECONDS) throw invalid("overlap_seconds", `overlap_seconds: a whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS}`);
  return n;
}

/** Issue a new token; the old ones stop now, or after overlap_seconds (tenant-admin). The secret is shown once. */
export async function rotateDeviceToken(deps: DeviceDeps, ctx: Ctx, deviceId: string, opts: { overlapSeconds?: unknown } = {}): Promise<{ token: DeviceToken; secret: string }> {
  requirePermission(ctx, "admin", "rotate device tokens");
  const overlap = overlapOf(opts.overlapSeconds);
  const now = deps.clock.now();
  const out = await withTenant(deps.db, ctx, async (tx) => {
    const device = await lockDevice(tx, deviceId);
    if (!device) throw notFound(`device ${deviceId}`);
    if (device.status === "REVOKED") throw conflict(`device ${deviceId} is decommissioned; recommission it to give it a token`, "status");
    if (device.status === "PENDING") throw conflict(`device ${deviceId} is not activated yet; it gets its first token by activation`, "status");
    const issued = await issueTokenIn(tx, ctx.tenantId, deviceId, now);
    const old = overlap > 0 ? await expireTokens(tx, deviceId, new Date(now.getTime() + overlap * 1000), issued.row.id) : await revokeAllTokens(tx, deviceId, now, issued.row.id);
    await notifyDeviceChange(tx, ctx.tenantId, deviceId);
    await recordDeviceChange(tx, deps, ctx, {
      tenantId: ctx.tenantId,
      deviceId,
      action: "device.token_rotated",
      event: "token_rotated",
      details: { token_id: issued.row.id, overlap_seconds: overlap, previous_tokens: old },
    });
    return { token: toToken(issued.row, now), secret: issued.token };
  });
  changed(deps, ctx.tenantId, deviceId);
  return out;
}

/** Revoke one token at once (tenant-admin). */
export async function revokeDeviceToken(deps: DeviceDeps, ctx: Ctx, deviceId: string, tokenId: string): Promise<DeviceToken> {
  requirePermission(ctx, "admin", "revoke device tokens");
  const now = deps.clock.now();
  const out = await withTenant(deps.db, ctx, async (tx) => {
    const row = await revokeToken(tx, deviceId, tokenId, now);
    if (!row) throw notFound(`token ${tokenId} of device ${deviceId}`);
    await notifyDeviceChange(tx, ctx.tenantId, deviceId);
    await recordDeviceChange(tx, deps, ctx, { tenantId: ctx.tenantId, deviceId, action: "device.token_revoked", event: "token_revoked", details: { token_id: tokenId } });
    return toToken(row, now);
  });
  changed(deps, ctx.tenantId, deviceId);
  return out;
}

/** A device's tokens, newest first: when made, until when, last use; never the secret or its hash. */
export async function listDeviceTokens(deps: DeviceDeps, ctx: Ctx, deviceId: string): Promise<DeviceToken[]> {
  requirePermission(ctx, "read", "see device tokens");
  const now = deps.clock.now();
  return withTenant(deps.db, ctx, async (tx) => {
    if (!(await existingDeviceIds(tx, [deviceId])).size) throw notFound(`device ${deviceId}`);
    return (await listTokens(tx, deviceId)).map((r) => toToken(r, now));
  });
}
