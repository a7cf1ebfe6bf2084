// Server-side sessions behind cookies: the provider's single-sign-on session
// ("idp") and the web UI's session ("app"). The cookie holds 256 random bits;
// the database holds their hash. Sessions end at a fixed lifetime, after an
// idle period, at sign-out, or when the account's password changes.

import type { Db } from "../../db/db.ts";
import { withSystem } from "../../db/scope.ts";
import type { Clock } from "../../lib/clock.ts";
import { randomSecret, sha256Hex } from "../../lib/ids.ts";
import type { SecretBox } from "../../lib/secrets.ts";
import { findLiveSession, insertSession, revokeSession, setSessionTenant, touchSession, type SessionKind, type SessionRow } from "./store.ts";

export interface SessionDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  lifetimeMs: number;
  idleMs: number;
}

// Writing last_seen_at on every request would turn page views into writes.
const TOUCH_EVERY_MS = 60_000;

export interface OpenedSession {
  /** The cookie value; never stored. */
  token: string;
  expiresAt: Date;
}

export async function openSession(
  deps: SessionDeps,
  s: { kind: SessionKind; userId: string; tenantId: string | null; ip?: string; userAgent?: string },
): Promise<OpenedSession> {
  const token = randomSecret(32);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + deps.lifetimeMs);
  await withSystem(deps.db, (tx) =>
    insertSession(tx, { idHash: sha256Hex(token), kind: s.kind, userId: s.userId, tenantId: s.tenantId, now, expiresAt, ip: s.ip ?? null, userAgent: s.userAgent ?? null }),
  );
  return { token, expiresAt };
}

/** The live session behind a cookie value, or undefined. */
export async function findSession(deps: SessionDeps, kind: SessionKind, token: string | undefined): Promise<SessionRow | undefined> {
  if (!token || token.length > 100) return undefined;
  const now = deps.clock.now();
  const idHash = sha256Hex(token);
  return withSystem(deps.db, async (tx) => {
    const row = await findLiveSession(tx, kind, idHash, now, new Date(now.getTime() - deps.idleMs));
    if (row && now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) await touchSession(tx, idHash, now);
    return row;
  });
}

export async function endSession(deps: SessionDeps, token: string | undefined): Promise<void> {
  if (!token) return;
  await withSystem(deps.db, (tx) => revokeSession(tx, sha256Hex(token), deps.clock.now()));
}

export async function switchSessionTenant(deps: SessionDeps, idHash: string, tenantId: string | null): Promise<void> {
  await withSystem(deps.db, (tx) => setSessionTenant(tx, idHash, tenantId));
}

/** The CSRF token of a session: derived, so nothing more is stored. */
export function csrfToken(deps: Pick<SessionDeps, "secrets">, sessionIdHash: string): Promise<string> {
  return deps.secrets.mac("csrf", sessionIdHash);
}
