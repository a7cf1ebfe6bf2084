// Throttling of sign-ins and password-reset requests, per account and per
// client address, shared by every node through the database. Sign-ins are
// checked before any password is hashed, so a flood of guesses costs Pulse
// one indexed lookup each, not an argon2 run.

import type { Db } from "../db/db.ts";
import { withSystem } from "../db/scope.ts";
import type { Clock } from "../lib/clock.ts";
import { clearThrottle, lockThrottle, releaseThrottleUse, saveThrottle } from "./sessions/store.ts";

export const WINDOW_MS = 15 * 60_000;
export const LOCK_MS = 15 * 60_000;

/** Reset requests one client address may make within 15 minutes, for any email, known or not. */
export const RESET_MAX_PER_IP = 5;
/** Reset mails one account may be sent within an hour. */
export const RESET_MAX_PER_ACCOUNT = 3;
const RESET_ACCOUNT_WINDOW_MS = 60 * 60_000;

/** The longest window of any limit: counters younger than this are still in use (cleanup keeps them). */
export const LONGEST_WINDOW_MS = Math.max(WINDOW_MS, RESET_ACCOUNT_WINDOW_MS);

export interface ThrottleDeps {
  db: Db;
  clock: Clock;
  maxPerAccount: number;
  maxPerIp: number;
}

/** One counter: at most `max` uses per window; reaching it locks the key for lockMs. */
export interface Limit {
  key: string;
  max: number;
  windowMs: number;
  lockMs: number;
}

/**
 * Count one use against every limit, atomically: refused (with the seconds
 * to wait, and nothing counted) while any of them is locked. All rows are
 * locked in one transaction before deciding, so twenty requests sent at
 * once cannot all get past a limit of five.
 */
export async function reserve(deps: Pick<ThrottleDeps, "db" | "clock">, limits: readonly Limit[]): Promise<{ wait: number; lockedNow: boolean }> {
  const now = deps.clock.now();
  return withSystem(deps.db, async (tx) => {
    // Locked in the order given; every caller passes its keys in a fixed order.
    const rows = [];
    for (const l of limits) rows.push(await lockThrottle(tx, l.key, now));
    const until = Math.max(0, ...rows.map((r) => r.locked_until?.getTime() ?? 0));
    if (until > now.getTime()) return { wait: Math.ceil((until - now.getTime()) / 1000), lockedNow: false };
    let lockedNow = false;
    for (let i = 0; i < limits.length; i++) {
      const { key, max, windowMs, lockMs } = limits[i]!;
      const row = rows[i]!;
      const fresh = row.window_start.getTime() < now.getTime() - windowMs;
      const failures = fresh ? 1 : row.failures + 1;
      if (failures >= max) lockedNow = true;
      await saveThrottle(tx, { key, failures, window_start: fresh ? now : row.window_start, locked_until: failures >= max ? new Date(now.getTime() + lockMs) : null });
    }
    return { wait: 0, lockedNow };
  });
}

const keysFor = (login: string, ip: string) => ({ account: `user:${login.toLowerCase()}`, ip: `ip:${ip}` });

/**
 * Reserve one sign-in attempt for this account and address: refused while
 * either is locked; otherwise the attempt counts as a failure until
 * releaseAttempt says it succeeded.
 */
export async function reserveAttempt(deps: ThrottleDeps, login: string, ip: string): Promise<{ wait: number; lockedNow: boolean }> {
  const k = keysFor(login, ip);
  return reserve(deps, [
    { key: k.account, max: deps.maxPerAccount, windowMs: WINDOW_MS, lockMs: LOCK_MS },
    { key: k.ip, max: deps.maxPerIp, windowMs: WINDOW_MS, lockMs: LOCK_MS },
  ]);
}

/** The attempt succeeded: the account starts afresh and the address gets its attempt back. */
export async function releaseAttempt(deps: ThrottleDeps, login: string, ip: string): Promise<void> {
  const k = keysFor(login, ip);
  await withSystem(deps.db, async (tx) => {
    await clearThrottle(tx, k.account);
    await releaseThrottleUse(tx, k.ip, deps.maxPerIp);
  });
}

/**
 * One "forgot password" request from this address. Every request counts,
 * whether or not the email belongs to an account, so being refused here
 * says nothing about who exists. Keys of their own ("reset:"), so resets
 * and sign-ins do not use up each other's allowance.
 */
export function reserveResetForAddress(deps: Pick<ThrottleDeps, "db" | "clock">, ip: string): Promise<{ wait: number; lockedNow: boolean }> {
  return reserve(deps, [{ key: `reset:ip:${ip}`, max: RESET_MAX_PER_IP, windowMs: WINDOW_MS, lockMs: LOCK_MS }]);
}

/** One reset mail to this account (by id, so differently written emails share it). */
export function reserveResetForAccount(deps: Pick<ThrottleDeps, "db" | "clock">, userId: string): Promise<{ wait: number; lockedNow: boolean }> {
  return reserve(deps, [{ key: `reset:user:${userId}`, max: RESET_MAX_PER_ACCOUNT, windowMs: RESET_ACCOUNT_WINDOW_MS, lockMs: RESET_ACCOUNT_WINDOW_MS }]);
}
