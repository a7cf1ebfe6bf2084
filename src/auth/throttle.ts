// Login throttling, per account and per client address, shared by every node
// through the database. It is checked before any password is hashed, so a
// flood of guesses costs Pulse one indexed lookup each, not an argon2 run.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { clearThrottle, lockThrottle, saveThrottle } from "./sessions/store.ts";

export const WINDOW_MS = 15 * 60_000;
export const LOCK_MS = 15 * 60_000;

export interface ThrottleDeps {
  db: Db;
  clock: Clock;
  maxPerAccount: number;
  maxPerIp: number;
}

const keysFor = (login: string, ip: string) => ({ account: `user:${login.toLowerCase()}`, ip: `ip:${ip}` });

/**
 * Reserve one sign-in attempt for this account and address, atomically:
 * refused (with the seconds to wait) while either is locked; otherwise the
 * attempt counts as a failure until releaseAttempt says it succeeded. So
 * twenty guesses sent at once cannot all get past a limit of five.
 */
export async function reserveAttempt(deps: ThrottleDeps, login: string, ip: string): Promise<{ wait: number; lockedNow: boolean }> {
  const k = keysFor(login, ip);
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    const keys = [
      [k.account, deps.maxPerAccount],
      [k.ip, deps.maxPerIp],
    ] as const;
    // Lock both rows (in a fixed order) before deciding.
    const rows = [];
    for (const [key] of keys) rows.push(await lockThrottle(tx, key));
    const until = Math.max(0, ...rows.map((r) => r?.locked_until?.getTime() ?? 0));
    if (until > now.getTime()) return { wait: Math.ceil((until - now.getTime()) / 1000), lockedNow: false };
    let lockedNow = false;
    for (let i = 0; i < keys.length; i++) {
      const [key, max] = keys[i]!;
      const row = rows[i];
      const fresh = !row || row.window_start.getTime() < now.getTime() - WINDOW_MS;
      const failures = fresh ? 1 : row.failures + 1;
      if (failures >= max) lockedNow = true;
      await saveThrottle(tx, { key, failures, window_start: fresh ? now : row.window_start, locked_until: failures >= max ? new Date(now.getTime() + LOCK_MS) : null });
    }
    return { wait: 0, lockedNow };
  });
}

/** The attempt succeeded: the account starts afresh and the address gets its attempt back. */
export async function releaseAttempt(deps: ThrottleDeps, login: string, ip: string): Promise<void> {
  const k = keysFor(login, ip);
  await withSystem(deps.db, async (tx) => {
    await clearThrottle(tx, k.account);
    await tx.query("update login_throttle set failures = greatest(0, failures - 1), locked_until = case when failures - 1 < $2 then null else locked_until end where key = $1", [k.ip, deps.maxPerIp]);
  });
}
